"""What a projection is: its tables and how one event changes them.

Table names are written ``{t}`` + name in the DDL and SQL so the same projection can build
into a fresh set of tables (suffix ``__rebuild``) while the live set keeps serving reads.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.eventstore import RecordedEvent


class Projection(Protocol):
    name: str
    tables: tuple[str, ...]

    def ddl(self, suffix: str) -> list[str]:
        """CREATE statements for this projection's tables, each name + ``suffix``."""
        ...

    async def apply(self, conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
        """Change the read model for one event (inside the caller's transaction)."""
        ...
