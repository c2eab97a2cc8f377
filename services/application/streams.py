"""Loading a stream's decision state cheaply, and running one command against it.

The state is kept as a snapshot (``stream_snapshots``) written in the same transaction as
the events, so a write reads one row plus the events after it — its cost does not grow with
the length of the doctor's history. A snapshot whose schema differs from the code's is
ignored and the state is folded from the events instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.base import Event, registry
from services.store import eventstore, idempotency
from services.store.eventstore import ConcurrencyConflict, NewEvent, RecordedEvent

S = TypeVar("S")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """How to rebuild one kind of stream's decision state."""

    stream_type: str
    state_type: type[S]
    initial: Callable[[], S]
    evolve: Callable[[S, Event], S]
    snapshot_schema: str  # change it whenever the state's shape changes

    def fold(self, state: S, events: Sequence[Event]) -> S:
        for event in events:
            state = self.evolve(state, event)
        return state


class CommandRejected(Exception):
    """The domain said no; nothing was stored."""

    def __init__(self, rejection: Any) -> None:
        super().__init__(getattr(rejection, "detail", str(rejection)))
        self.rejection = rejection


@dataclass(frozen=True)
class IdempotentRequest:
    principal: str
    key: str
    fingerprint: bytes


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S
    version: int
    recorded: list[RecordedEvent]


def decode(event: RecordedEvent) -> Event:
    return registry.decode(event.type, event.schema_version, bytes(event.data))


async def load(conn: AsyncConnection, aggregate: Aggregate[S], stream_id: str) -> tuple[S, int]:
    row = (
        await conn.execute(
            text("SELECT version, state, schema FROM stream_snapshots WHERE stream_id = :s"),
            {"s": stream_id},
        )
    ).first()
    state, version = aggregate.initial(), 0
    if row is not None and row.schema == aggregate.snapshot_schema:
        state = msgspec.msgpack.decode(bytes(row.state), type=aggregate.state_type)
        version = row.version
    tail = await eventstore.load_stream(conn, stream_id, after_version=version)
    state = aggregate.fold(state, [decode(e) for e in tail])
    return state, version + len(tail)


async def save_snapshot(
    conn: AsyncConnection, aggregate: Aggregate[S], stream_id: str, version: int, state: S
) -> None:
    await conn.execute(
        text(
            "INSERT INTO stream_snapshots (stream_id, version, state, schema) "
            "VALUES (:s, :v, :st, :sc) ON CONFLICT (stream_id) DO UPDATE SET "
            "version = excluded.version, state = excluded.state, schema = excluded.schema"
        ),
        {
            "s": stream_id,
            "v": version,
            "st": msgspec.msgpack.encode(state),
            "sc": aggregate.snapshot_schema,
        },
    )


def new_events(events: Sequence[Event], metadata: dict[str, Any]) -> list[NewEvent]:
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            type=type(event).__struct_config__.tag,  # type: ignore[arg-type]
            schema_version=type(event).schema_version,
            data=registry.encode(event),
            metadata=metadata,
        )
        for event in events
    ]


# A lock class of our own: the two-key advisory locks never collide with the one-key lock
# that orders appends (services.store.eventstore.APPEND_LOCK_KEY).
STREAM_LOCK_CLASS = 0x6B6F


async def lock_stream(conn: AsyncConnection, stream_id: str) -> None:
    """Serialise the writers of one stream that did not name a version (transaction-scoped).
    Always taken before the append lock, so the two cannot deadlock."""
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:c, hashtext(:s))"),
        {"c": STREAM_LOCK_CLASS, "s": stream_id},
    )


async def run_command(
    conn: AsyncConnection,
    aggregate: Aggregate[S],
    stream_id: str,
    *,
    expected_version: int | None,
    decide: Callable[[S, int], Any],
    metadata: dict[str, Any],
    after_append: Callable[[AsyncConnection, S, list[RecordedEvent]], Awaitable[None]]
    | None = None,
) -> Outcome[S]:
    """Inside the caller's transaction: load, check the expected version, decide, append,
    snapshot. ``decide(state, version)`` returns a list of events or a rejection.

    Without an expected version (no ``If-Match``) the write is decided against the current
    state however many others write at once: writers of one stream queue on a per-stream
    lock held to commit, so they do not conflict with each other (API.md conventions)."""
    if expected_version is None:
        await lock_stream(conn, stream_id)
    state, version = await load(conn, aggregate, stream_id)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyConflict(stream_id, expected_version, version)
    decided = decide(state, version)
    if not isinstance(decided, list):
        raise CommandRejected(decided)
    new_state = aggregate.fold(state, decided)
    if decided:
        # Before the append: the append takes the global lock, and everything after it in
        # this transaction is serialised with every other writer until the commit.
        await save_snapshot(conn, aggregate, stream_id, version + len(decided), new_state)
    recorded = await eventstore.append(
        conn,
        stream_type=aggregate.stream_type,
        stream_id=stream_id,
        expected_version=version,
        events=new_events(decided, metadata),
    )
    state = new_state
    version += len(decided)
    if after_append is not None:
        await after_append(conn, state, recorded)
    return Outcome(state, version, recorded)


async def once(
    engine: AsyncEngine,
    request: IdempotentRequest | None,
    work: Callable[[AsyncConnection], Awaitable[idempotency.StoredResponse]],
) -> idempotency.StoredResponse:
    """Run ``work`` in one transaction, at most once per idempotency key: a retry with the
    same key and body gets the first response back; with another body, a conflict."""
    if request is not None:
        async with engine.connect() as conn:
            stored = await idempotency.find(
                conn, request.principal, request.key, request.fingerprint
            )
        if stored is not None:
            return stored
    try:
        async with engine.begin() as conn:
            response = await work(conn)
            if request is not None and response.status_code < 400:
                await idempotency.remember(
                    conn, request.principal, request.key, request.fingerprint, response
                )
            return response
    except (IntegrityError, ConcurrencyConflict):
        # A concurrent request with the same key committed first: answer as it did.
        if request is None:
            raise
        async with engine.connect() as conn:
            stored = await idempotency.find(
                conn, request.principal, request.key, request.fingerprint
            )
        if stored is None:
            raise
        return stored
