"""Small helpers shared by the integration tests."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import eventstore
from services.store.eventstore import START, Cursor, NewEvent


def new_event(type_: str = "test.happened", **data: object) -> NewEvent:
    import msgspec

    return NewEvent(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        data=msgspec.json.encode({"type": type_, **data}),
        metadata={"request_id": str(uuid.uuid4())},
    )


def org_numbers(start: int = 900_000_000):  # type: ignore[no-untyped-def]
    """Valid organisation numbers (mod 11), in order from ``start``."""
    import itertools

    from domain.identifiers import is_valid_org_number

    return (str(n) for n in itertools.count(start) if is_valid_org_number(str(n)))


def organisation_registered(org_number: str) -> NewEvent:
    """A real domain event for tests that append straight to the store: every read model
    can decode it (a made-up type in a domain stream is what the projections dead-letter)."""
    from datetime import date

    from events import OrganisationRegistered, registry

    event = OrganisationRegistered(
        org_number=org_number,
        name=f"Direkte {org_number}",
        kind="municipality",
        registered_on=date(2025, 1, 1),
    )
    return NewEvent(
        event_id=uuid.uuid4(),
        type="organisation.registered",
        schema_version=OrganisationRegistered.schema_version,
        data=registry.encode(event),
        metadata={"request_id": str(uuid.uuid4())},
    )


async def feed_head(engine: AsyncEngine) -> Cursor:
    """The cursor of the last final event in the feed."""
    async with engine.connect() as conn:
        return await eventstore.head(conn)


async def _cursor(engine: AsyncEngine, sql: str, params: dict[str, str]) -> Cursor:
    async with engine.connect() as conn:
        row = (await conn.execute(text(sql), params)).first()
    return START if row is None else Cursor(row.transaction_id, row.position)


async def checkpoint_of(engine: AsyncEngine, projection: str) -> Cursor:
    """Where ``projection`` stands in the feed (``START`` before it has a checkpoint)."""
    return await _cursor(
        engine,
        "SELECT transaction_id, position FROM projection_checkpoints WHERE projection = :n",
        {"n": projection},
    )


async def relay_checkpoint(engine: AsyncEngine) -> Cursor:
    """Where the furthest relay stands in the feed."""
    return await _cursor(
        engine,
        "SELECT transaction_id, position FROM relay_checkpoints "
        "ORDER BY transaction_id DESC, position DESC LIMIT 1",
        {},
    )
