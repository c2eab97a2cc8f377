"""The append-only ``access_log`` table: who reached which doctor's record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

COLUMNS = (
    "doctor_id",
    "kind",
    "hpr",
    "client",
    "org",
    "action",
    "method",
    "endpoint",
    "status",
    "request_id",
)

# One statement however many rows: each column as an array, unnested side by side.
_INSERT = text(
    "INSERT INTO access_log (doctor_id, actor_kind, actor_hpr, client_id, org_number, action,"
    " method, endpoint, status, request_id) SELECT * FROM unnest(CAST(:doctor_id AS text[]),"
    " CAST(:kind AS text[]), CAST(:hpr AS text[]), CAST(:client AS text[]),"
    " CAST(:org AS text[]), CAST(:action AS text[]), CAST(:method AS text[]),"
    " CAST(:endpoint AS text[]), CAST(:status AS smallint[]), CAST(:request_id AS text[]))"
)


async def insert(conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
    """Rows of the access log, in the order given, in one INSERT."""
    if rows:
        await conn.execute(_INSERT, {c: [row.get(c) for row in rows] for c in COLUMNS})
