"""Running one command against a stream: load (snapshot + tail, :mod:`services.aggregates`),
check the expected version, decide, snapshot, append; and the transaction around it with
the idempotency key."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.rejection import Rejection
from events.base import Event, registry
from services.aggregates import Aggregate as Aggregate
from services.aggregates import load as load
from services.aggregates import load_since_snapshot, save_snapshot, snapshot_due
from services.application.messages import Envelope, Reply
from services.application.messages import IdempotentRequest as IdempotentRequest
from services.errors import CommandRejected as CommandRejected
from services.errors import Conflict
from services.store import eventstore, horizon, idempotency
from services.store.eventstore import (
    ConcurrencyConflict,
    DuplicateEventId,
    FeedOrderConflict,
    NewEvent,
    RecordedEvent,
)

S = TypeVar("S")


@dataclass(frozen=True)
class Outcome(Generic[S]):
    state: S
    version: int
    recorded: list[RecordedEvent]


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


# A lock class of our own: two-key advisory locks never collide with one-key ones.
STREAM_LOCK_CLASS = 0x6B6F


async def lock_stream(conn: AsyncConnection, stream_id: str) -> None:
    """Serialise the writers of one stream that did not name a version (transaction-scoped).
    Taken before anything is written, so the transaction's id is drawn after the stream's
    last append committed (its feed order, see ``services.store.eventstore``)."""
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
    decide: Callable[[S, int], Sequence[Event] | Rejection],
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
    state, version, since_snapshot = await load_since_snapshot(conn, aggregate, stream_id)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyConflict(stream_id, expected_version, version)
    decided = decide(state, version)
    if isinstance(decided, Rejection) or not isinstance(decided, list | tuple):
        raise CommandRejected(decided)  # type: ignore[arg-type]
    new_state = aggregate.fold(state, decided)
    # The append first: as a transaction's first write it joins the feed itself
    # (services.store.horizon), so a caller that has written nothing need not.
    recorded = await eventstore.append(
        conn,
        stream_type=aggregate.stream_type,
        stream_id=stream_id,
        expected_version=version,
        events=new_events(decided, metadata),
    )
    if snapshot_due(since_snapshot, len(decided)):  # every N events (services.aggregates)
        await save_snapshot(conn, aggregate, stream_id, version + len(decided), new_state)
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
            # Before anything is written: the feed's horizon (services.store.horizon).
            await horizon.join_feed(conn)
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


# Without If-Match the server retries its own version conflicts (API.md conventions): the
# work reloads and re-decides each time. Bounded, with jittered backoff.
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.01


async def _retrying(
    engine: AsyncEngine, envelope: Envelope, work: Callable[[AsyncConnection], Awaitable[Reply]]
) -> Reply:
    for attempt in range(1, MAX_ATTEMPTS):
        try:
            return await once(engine, envelope.idempotency, work)
        except ConcurrencyConflict as conflict:
            # A feed-order conflict is not the client's stale version: always retried.
            if envelope.expected_version is not None and not isinstance(
                conflict, FeedOrderConflict
            ):
                raise
            await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
    return await once(engine, envelope.idempotency, work)


async def transaction(
    engine: AsyncEngine, envelope: Envelope, work: Callable[[AsyncConnection], Awaitable[Reply]]
) -> Reply:
    """One write: ``work`` in one transaction at most once per idempotency key, the store's
    failures as the application's conflicts (the API never sees the store)."""
    try:
        return await _retrying(engine, envelope, work)
    except ConcurrencyConflict as conflict:
        if envelope.expected_version is None:  # retried and still losing: no header named
            raise Conflict(
                "the record changed under this write too often; retry it",
                code="write-contention",
            ) from conflict
        raise Conflict(
            f"{conflict}: read the record again and retry with its current ETag",
            field="If-Match",
            code="stale-version",
        ) from conflict
    except idempotency.IdempotencyKeyReused as reused:
        raise Conflict(
            "this Idempotency-Key was used with a different request body",
            field="Idempotency-Key",
            code="idempotency-key-reused",
        ) from reused
    except DuplicateEventId as duplicate:
        raise Conflict("this event was stored already", code="duplicate") from duplicate


async def write_one(
    engine: AsyncEngine,
    envelope: Envelope,
    aggregate: Aggregate[S],
    stream_id: str,
    decide: Callable[[S, int], Sequence[Event] | Rejection],
    reply: Callable[[Outcome[S]], Reply],
) -> Reply:
    """The common handler body: one command on one stream, no context, no side table.
    ``If-Match`` is the contract of a doctor's record only, so it is not applied here."""

    async def work(conn: AsyncConnection) -> Reply:
        outcome = await run_command(
            conn,
            aggregate,
            stream_id,
            expected_version=None,
            decide=decide,
            metadata=envelope.metadata(),
        )
        return reply(outcome)

    return await transaction(engine, envelope, work)
