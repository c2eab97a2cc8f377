"""One statement and its answer, for the modules that each run a handful of them: every row
it returns, or its single value as text (an id, a status, a name)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection


async def rows(
    conn: AsyncConnection, sql: str, params: Mapping[str, Any] | None = None
) -> list[Row[Any]]:
    """Every row of ``sql``'s answer."""
    return list((await conn.execute(text(sql), params)).all())


async def value(conn: AsyncConnection, sql: str, params: Mapping[str, Any]) -> str | None:
    """The first column of ``sql``'s first row, as text; None if there is no row (or it is
    NULL)."""
    found = await conn.scalar(text(sql), params)
    return None if found is None else str(found)


async def column(
    conn: AsyncConnection, sql: str, params: Mapping[str, Any] | None = None
) -> list[str]:
    """The first column of every row of ``sql``'s answer, as text (ids, names)."""
    return [str(found) for found in await conn.scalars(text(sql), params)]
