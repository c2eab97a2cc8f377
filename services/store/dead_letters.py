"""Dead letters: events a consumer could not handle and stepped over, kept for an operator.

The relay records an event it cannot publish (``consumer = 'relay'``); a projector records
one its projection cannot apply (``consumer = 'projection:<name>'``). Each stays "open"
until acknowledged with ``kompetanse dead-letters --ack``; ``/readyz`` reports the open
ones. The event itself is never touched: the store stays append-only.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.eventstore import RecordedEvent


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    consumer: str
    position: int
    event_id: str
    stream_type: str
    stream_id: str
    type: str
    reason: str
    dead_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


async def record(conn: AsyncConnection, consumer: str, event: RecordedEvent, reason: str) -> bool:
    """Keep ``event`` as a dead letter of ``consumer``; False if it already was one."""
    result = await conn.execute(
        text(
            "INSERT INTO dead_letters (consumer, position, event_id, stream_type, stream_id, "
            "type, reason) VALUES (:c, :p, :e, :st, :si, :t, :r) "
            "ON CONFLICT (consumer, position) DO NOTHING RETURNING id"
        ),
        {
            "c": consumer,
            "p": event.position,
            "e": event.event_id,
            "st": event.stream_type,
            "si": event.stream_id,
            "t": event.type,
            "r": reason[:2000],
        },
    )
    return result.first() is not None


async def count_open(conn: AsyncConnection) -> int:
    return int(
        await conn.scalar(text("SELECT count(*) FROM dead_letters WHERE acknowledged_at IS NULL"))
        or 0
    )


async def listed(conn: AsyncConnection, *, include_acknowledged: bool = False) -> list[DeadLetter]:
    where = "" if include_acknowledged else " WHERE acknowledged_at IS NULL"
    rows = await conn.execute(
        text(
            "SELECT id, consumer, position, event_id::text AS event_id, stream_type, stream_id, "
            f"type, reason, dead_at, acknowledged_at, acknowledged_by FROM dead_letters{where} "
            "ORDER BY id"
        )
    )
    return [DeadLetter(**row._asdict()) for row in rows]


async def acknowledge(conn: AsyncConnection, ids: list[int] | None, by: str) -> int:
    """Acknowledge the open dead letters ``ids`` (all open ones for None); return how many."""
    bound = "" if ids is None else " AND id = ANY(:ids)"
    result = await conn.execute(
        text(
            "UPDATE dead_letters SET acknowledged_at = now(), acknowledged_by = :by "
            f"WHERE acknowledged_at IS NULL{bound} RETURNING id"
        ),
        {"by": by, "ids": ids},
    )
    return len(result.all())
