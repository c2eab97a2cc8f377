"""Append and read events.

Ordering (the sequence-gap trap of DESIGN.md): a position taken from a sequence is not
commit order when writers commit concurrently, so a reader following "position > last
seen" could skip an event that commits late. Appends take no global lock. Each event
records the id of the transaction that appended it (``transaction_id``), and the feed is
the order (transaction_id, position), read only below the oldest transaction still in
flight that appends events (``services.store.horizon``). Every appending transaction below
that line has ended, so nothing can ever appear before what a reader has seen: the feed is
a gap-free, append-only sequence, and a reader's checkpoint is a :class:`Cursor`, the pair.
An appending transaction held open holds the feed back (the relay waits; it never skips),
other writes do not, and concurrent commits share WAL flushes. Within one stream, feed
order is version order (an append reads the stream's head after the previous append
committed; ``FeedOrderConflict`` guards it).
``tests/integration/test_relay_ordering.py`` proves it with concurrent writers and a
transaction held open.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from events.subjects import UnpublishableEvent, check_publishable
from services.store import horizon


class Cursor(NamedTuple):
    """A place in the feed: the (transaction id, position) of an event, compared as a pair.
    ``START`` is before every event."""

    transaction_id: int
    position: int

    def __str__(self) -> str:
        return f"{self.transaction_id}:{self.position}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        transaction_id, position = text.split(":")
        return cls(int(transaction_id), int(position))


START = Cursor(0, 0)


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: uuid.UUID
    type: str
    schema_version: int
    data: bytes  # JSON as encoded by events.registry
    metadata: dict[str, Any] = {}


class RecordedEvent(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    transaction_id: int = 0  # 0: recorded before feed order had transaction ids (0008)
    event_id: uuid.UUID
    stream_type: str
    stream_id: str
    version: int
    type: str
    schema_version: int
    data: msgspec.Raw
    metadata: dict[str, Any]
    recorded_at: datetime

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.transaction_id, self.position)


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it (stale expected version)."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        at = "a newer version" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id} is at {at}, expected version {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


__all__ = [
    "START",
    "ConcurrencyConflict",
    "Cursor",
    "DuplicateEventId",
    "FeedOrderConflict",
    "NewEvent",
    "RecordedEvent",
    "UnpublishableEvent",
    "append",
    "events_after",
    "head",
    "load_stream",
    "read_feed",
    "stream_version",
]


class FeedOrderConflict(ConcurrencyConflict):
    """The stream's last event was appended by a transaction younger than this one: the
    append would come before it in the feed. Nothing was inserted; the same command in a new
    transaction (with a new id) succeeds."""

    def __init__(self, stream_id: str, version: int) -> None:
        super().__init__(stream_id, version, version)
        self.args = (
            f"stream {stream_id} was appended to by a younger transaction than this one; "
            "retry in a new transaction",
        )


class DuplicateEventId(Exception):
    """An event id was reused for a different event."""


_COLUMNS = (
    "position, transaction_id, event_id, stream_type, stream_id, version, type, schema_version, "
    "data::text AS data, metadata::text AS metadata, recorded_at"
)

_INSERT = text(
    """
    WITH last AS MATERIALIZED (
             SELECT version, transaction_id FROM events WHERE stream_id = :stream_id
             ORDER BY version DESC LIMIT 1
         ),
         head AS MATERIALIZED (
             SELECT coalesce(max(version), 0) AS version,
                    coalesce(max(transaction_id), 0) AS transaction_id
             FROM last
         ),
         this AS MATERIALIZED (SELECT (pg_current_xact_id()::text)::bigint AS transaction_id)
    INSERT INTO events (event_id, stream_type, stream_id, version, type, schema_version,
                        data, metadata)
    SELECT e.event_id, :stream_type, :stream_id, e.version, e.type, e.schema_version,
           e.data::jsonb, e.metadata::jsonb
    FROM head, this,
         unnest(CAST(:event_ids AS uuid[]), CAST(:versions AS int[]), CAST(:types AS text[]),
                CAST(:schema_versions AS smallint[]), CAST(:datas AS text[]),
                CAST(:metadatas AS text[]))
         WITH ORDINALITY AS e(event_id, version, type, schema_version, data, metadata, ord)
    WHERE head.version = :expected AND head.transaction_id <= this.transaction_id
    ORDER BY e.ord
    RETURNING position, transaction_id, recorded_at
    """
)
# One round trip. The table's INSERT trigger joins the feed before ``this`` gives the
# transaction its id (services.store.horizon). A stream that is not at :expected inserts
# nothing (a conflict); a racing writer hits the unique constraint. The second condition
# keeps a stream's feed order its version order: a transaction whose id is older than the
# one that wrote the stream's head (it began writing elsewhere before that append
# committed) would put its event before the head in the feed, so it inserts nothing and
# is retried with a new id.

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
    except DBAPIError as err:
        if (late := horizon.joined_late(err)) is not None:
            raise late from err
        if not isinstance(err, IntegrityError):
            raise
        # The transaction is now aborted; the caller rolls it back.
        if "events_event_id_key" in str(err.orig):
            raise DuplicateEventId(str(err.orig)) from err
        raise ConcurrencyConflict(stream_id, expected_version, None) from err
    if not rows:  # nothing was inserted
        actual = await stream_version(conn, stream_id)
        if actual == expected_version:
            raise FeedOrderConflict(stream_id, actual)
        raise ConcurrencyConflict(stream_id, expected_version, actual)
    return [
        RecordedEvent(
            position=row.position,
            transaction_id=row.transaction_id,
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
        transaction_id=row.transaction_id,
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


async def read_feed(
    conn: AsyncConnection, *, after: Cursor, limit: int, before: Cursor | None = None
) -> list[RecordedEvent]:
    """Events in feed order after ``after``: the final ones (below the horizon, see
    ``services.store.horizon``), or, with ``before``, those between the two cursors.
    ``before`` must be the cursor of an event read from the feed: everything before such
    an event is final already."""
    if before is None:
        bound, bounds = "transaction_id < :h", {"h": await horizon.horizon(conn)}
    else:
        bound = "(transaction_id, position) < (:bt, :bp)"
        bounds = {"bt": before.transaction_id, "bp": before.position}
    result = await conn.execute(
        text(
            f"SELECT {_COLUMNS} FROM events WHERE (transaction_id, position) > (:at, :ap) "
            f"AND {bound} ORDER BY transaction_id, position LIMIT :limit"
        ),
        {"at": after.transaction_id, "ap": after.position, "limit": limit, **bounds},
    )
    return [_recorded(row) for row in result]


async def head(conn: AsyncConnection) -> Cursor:
    """The cursor of the last final event in the feed (``START`` for an empty store)."""
    final_below = await horizon.horizon(conn)
    row = (
        await conn.execute(
            text(
                "SELECT transaction_id, position FROM events WHERE transaction_id < :h "
                "ORDER BY transaction_id DESC, position DESC LIMIT 1"
            ),
            {"h": final_below},
        )
    ).first()
    return START if row is None else Cursor(row.transaction_id, row.position)


async def events_after(conn: AsyncConnection, cursor: Cursor, *, cap: int = 1_000_000) -> int:
    """How many events the feed holds after ``cursor`` (counted up to ``cap``): a lag."""
    count = await conn.scalar(
        text(
            "SELECT count(*) FROM (SELECT 1 FROM events "
            "WHERE (transaction_id, position) > (:t, :p) LIMIT :cap) AS after"
        ),
        {"t": cursor.transaction_id, "p": cursor.position, "cap": cap},
    )
    return int(count or 0)
