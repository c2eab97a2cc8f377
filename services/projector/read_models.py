"""The training read models as projections (see ``services.read_models``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.aggregates import copy_of
from services.read_models import applications, states
from services.store.eventstore import RecordedEvent


def copies_of(tables: tuple[str, ...], suffix: str) -> list[str]:
    """The tables are created by the migrations (the one place of their DDL); a rebuild's
    fresh set is a copy of the live shape, indexes and constraints included."""
    return [copy_of(t, suffix) for t in tables] if suffix else []


class DomainStates:
    """Doctor, organisation and catalogue states, one row per stream."""

    name = "domain_states"
    tables = tuple(t.table for t in states.TABLES.values())

    def ddl(self, suffix: str) -> list[str]:
        return copies_of(self.tables, suffix)

    async def apply(self, conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
        await states.apply(conn, event, suffix)

    async def apply_batch(
        self, conn: AsyncConnection, events: list[RecordedEvent], suffix: str
    ) -> None:
        await states.apply_batch(conn, events, suffix)


class Applications:
    """The application queue and each application's status history."""

    name = "applications"
    tables: tuple[str, ...] = (applications.TABLE,)

    def ddl(self, suffix: str) -> list[str]:
        return copies_of(self.tables, suffix)

    async def apply(self, conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
        await applications.apply(conn, event, suffix)


def training_projections() -> list[object]:
    from services.projector.integration import Part1Completion

    return [DomainStates(), Applications(), Part1Completion()]
