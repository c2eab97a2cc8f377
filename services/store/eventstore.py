"""Append and read events.

Ordering (the sequence-gap trap of DESIGN.md): a position taken from a sequence is not
commit order when writers commit concurrently, so a reader following "position > last
seen" could skip an event that commits late. Every append therefore takes one
transaction-scoped advisory lock immediately before its INSERT and holds it until commit:
positions are drawn under the lock, so they are handed out in commit order and a reader
sees a gap-free prefix (gaps are only ever left by rolled-back transactions and are never
filled later). This is pyeventsourcing's choice; the lock is held only for the INSERT and
the commit, all deciding happens before it. ``tests/integration/test_relay_ordering.py``
proves it with concurrent writers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.subjects import UnpublishableEvent, check_publishable

APPEND_LOCK_KEY = 0x6B6F6D70  # "komp": the one lock that orders all appends


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: uuid.UUID
    type: str
    schema_version: int
    data: bytes  # JSON as encoded by events.registry
    metadata: dict[str, Any] = {}


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    event_id: uuid.UUID
    stream_type: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: msgspec.Raw
    metadata: dict[str, Any]
    recorded_at: datetime


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it (stale expected version)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        at = "a newer version" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id} is at {at}, expected version {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


__all__ = [
    "ConcurrencyConflict",
    "DuplicateEventId",
    "NewEvent",
    "RecordedEvent",
    "UnpublishableEvent",
    "append",
    "head_position",
    "load_stream",
    "read_all",
    "stream_version",
]


class DuplicateEventId(Exception):
    """An event id was reused for a different event."""


_COLUMNS = (
    "position, event_id, stream_type, stream_id, version, type, schema_version, "
    "data::text AS data, metadata::text AS metadata, recorded_at"
)

_INSERT = text(
    """
    WITH append_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(:lock_key) AS locked),
         head AS MATERIALIZED (
             SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = :stream_id
         )
    INSERT INTO events (event_id, stream_type, stream_id, version, type, schema_version,
                        data, metadata)
    SELECT e.event_id, :stream_type, :stream_id, e.version, e.type, e.schema_version,
           e.data::jsonb, e.metadata::jsonb
    FROM append_lock, head,
         unnest(CAST(:event_ids AS uuid[]), CAST(:versions AS int[]), CAST(:types AS text[]),
                CAST(:schema_versions AS smallint[]), CAST(:datas AS text[]),
                CAST(:metadatas AS text[]))
         WITH ORDINALITY AS e(event_id, version, type, schema_version, data, metadata, ord)
    WHERE head.version = :expected
    ORDER BY e.ord
    RETURNING position, recorded_at
    """
)
# One round trip (was three: version, lock, insert). The lock CTE is materialised and joined
# to every row, so it is taken before the first row reaches the INSERT, i.e. before any
# position is drawn from the identity: positions stay in commit order. A stream that is not
# at :expected inserts nothing (a conflict); a racing writer hits the unique constraint.

_metadata_encoder = msgspec.json.Encoder()
_metadata_decoder = msgspec.json.Decoder(dict[str, Any])


async def stream_version(conn: AsyncConnection, stream_id: str) -> int:
    result = await conn.execute(
        text("SELECT coalesce(max(version), 0) FROM events WHERE stream_id = :s"),
        {"s": stream_id},
    )
    return int(result.scalar_one())


def _insert_params(
    stream_type: str, stream_id: str, expected_version: int, events: Sequence[NewEvent]
) -> dict[str, object]:
    """One statement's parameters: the events as arrays, at the versions after ``expected``."""
    return {
        "lock_key": APPEND_LOCK_KEY,
        "expected": expected_version,
        "stream_type": stream_type,
        "stream_id": stream_id,
        "event_ids": [e.event_id for e in events],
        "versions": [expected_version + i for i in range(1, len(events) + 1)],
        "types": [e.type for e in events],
        "schema_versions": [e.schema_version for e in events],
        "datas": [e.data.decode() for e in events],
        "metadatas": [_metadata_encoder.encode(e.metadata).decode() for e in events],
    }


async def append(
    conn: AsyncConnection,
    *,
    stream_type: str,
    stream_id: str,
    expected_version: int | None,
    events: Sequence[NewEvent],
) -> list[RecordedEvent]:
    """Append ``events`` to a stream inside the caller's transaction.

    ``expected_version`` is the version the caller decided against (0 for a new stream);
    ``None`` appends after whatever is there. Raises :class:`ConcurrencyConflict` when the
    stream has moved on; the caller's transaction must then be rolled back. Raises
    :class:`UnpublishableEvent` (before touching the database) for a stream type, stream id
    or event type that could not go on the feed.
    """
    if not events:
        return []
    # Nothing the relay could not publish is ever committed: one such event would otherwise
    # sit in the feed's path for good (it is dead-lettered if it gets in some other way).
    for event in events:
        check_publishable(stream_type, stream_id, event.type)
    if expected_version is None:
        expected_version = await stream_version(conn, stream_id)
    params = _insert_params(stream_type, stream_id, expected_version, events)
    try:
        rows = (await conn.execute(_INSERT, params)).all()
    except IntegrityError as err:
        # The transaction is now aborted; the caller rolls it back.
        if "events_event_id_key" in str(err.orig):
            raise DuplicateEventId(str(err.orig)) from err
        raise ConcurrencyConflict(stream_id, expected_version, None) from err
    if not rows:  # the stream is not at the expected version: nothing was inserted
        actual = await stream_version(conn, stream_id)
        raise ConcurrencyConflict(stream_id, expected_version, actual)
    return [
        RecordedEvent(
            position=row.position,
            event_id=e.event_id,
            stream_type=stream_type,
            stream_id=stream_id,
            version=expected_version + i,
            type=e.type,
            schema_version=e.schema_version,
            data=msgspec.Raw(e.data),
            metadata=e.metadata,
            recorded_at=row.recorded_at,
        )
        for i, (e, row) in enumerate(zip(events, rows, strict=True), start=1)
    ]


def _recorded(row: Any) -> RecordedEvent:
    return RecordedEvent(
        position=row.position,
        event_id=row.event_id,
        stream_type=row.stream_type,
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        schema_version=row.schema_version,
        data=msgspec.Raw(row.data.encode()),
        metadata=_metadata_decoder.decode(row.metadata),
        recorded_at=row.recorded_at,
    )


async def load_stream(
    conn: AsyncConnection, stream_id: str, *, after_version: int = 0
) -> list[RecordedEvent]:
    result = await conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = :s AND version > :v ORDER BY version"
        ),
        {"s": stream_id, "v": after_version},
    )
    return [_recorded(row) for row in result]


async def read_all(
    conn: AsyncConnection, *, after_position: int, limit: int, before_position: int | None = None
) -> list[RecordedEvent]:
    """Events in global order after ``after_position`` (and before ``before_position``)."""
    bound = "" if before_position is None else " AND position < :before"
    result = await conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM events WHERE position > :after{bound} "
            "ORDER BY position LIMIT :limit"
        ),
        {"after": after_position, "before": before_position, "limit": limit},
    )
    return [_recorded(row) for row in result]


async def head_position(conn: AsyncConnection) -> int:
    result = await conn.execute(text("SELECT coalesce(max(position), 0) FROM events"))
    return int(result.scalar_one())
