"""Running one command against a stream: load (snapshot + tail, :mod:`services.aggregates`),
check the expected version, decide, snapshot, append; and the transaction around it with
the idempotency key."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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
from services.application.messages import AccessNote, Envelope, Group, Reply
from services.application.messages import IdempotentRequest as IdempotentRequest
from services.errors import CommandRejected as CommandRejected
from services.errors import Conflict
from services.store import access_log, eventstore, horizon, idempotency
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
    group: Group | None = None,
) -> Outcome[S]:
    """Inside the caller's transaction: load, check the expected version, decide, append,
    snapshot. ``decide(state, version)`` returns a list of events or a rejection.

    Without an expected version (no ``If-Match``) the write is decided against the current
    state however many others write at once: writers of one stream queue on a per-stream
    lock held to commit, so they do not conflict with each other (API.md conventions)."""
    if expected_version is None and (group is None or stream_id not in group.locked):
        await lock_stream(conn, stream_id)
        if group is not None:
            group.locking.add(stream_id)
    known = group.states.get(stream_id) if group and expected_version is None else None
    if known is not None:
        state, version, since_snapshot = known
    else:
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
        since_snapshot = 0
    else:
        since_snapshot += len(decided)
    state = new_state
    version += len(decided)
    if after_append is not None:
        await after_append(conn, state, recorded)
    if group is not None:
        group.states_after[stream_id] = (state, version, since_snapshot)
    return Outcome(state, version, recorded)


async def _record(
    conn: AsyncConnection,
    request: IdempotentRequest | None,
    access: AccessNote | None,
    work: Callable[[AsyncConnection], Awaitable[Reply]],
    group: Group | None = None,
) -> Reply:
    """``work`` and what goes with it in the same transaction: the reply under the
    idempotency key, and the write's access-log row with the reply's status (a group's
    rows are inserted together before its commit)."""
    response = await work(conn)
    if request is not None and response.status_code < 400:
        await idempotency.remember(
            conn, request.principal, request.key, request.fingerprint, response
        )
    # A handler that runs two transactions with one envelope logs its request once.
    if access is not None and not access.written and not (group and access in group.notes):
        row = {**access.row, "status": response.status_code}
        if group is not None:
            group.rows.append(row)
        else:
            await access_log.insert(conn, [row])
    return response


async def _stored(conn: AsyncConnection, request: IdempotentRequest) -> Reply | None:
    return await idempotency.find(conn, request.principal, request.key, request.fingerprint)


async def once(
    engine: AsyncEngine,
    request: IdempotentRequest | None,
    work: Callable[[AsyncConnection], Awaitable[Reply]],
    *,
    access: AccessNote | None = None,
) -> Reply:
    """Run ``work`` in one transaction, at most once per idempotency key: a retry with the
    same key and body gets the first response back; with another body, a conflict.
    ``access``: the write's access-log row, marked written once the transaction commits."""
    if request is not None:
        async with engine.connect() as conn:
            stored = await _stored(conn, request)
        if stored is not None:
            return stored
    try:
        async with engine.begin() as conn:
            # Before anything is written: the feed's horizon (services.store.horizon).
            await horizon.join_feed(conn)
            response = await _record(conn, request, access, work)
        if access is not None:
            access.written = True  # committed with the command
        return response
    except (IntegrityError, ConcurrencyConflict):
        # A concurrent request with the same key committed first: answer as it did.
        if request is None:
            raise
        async with engine.connect() as conn:
            stored = await _stored(conn, request)
        if stored is None:
            raise
        return stored


async def _in_savepoint(
    group: Group, envelope: Envelope, work: Callable[[AsyncConnection], Awaitable[Reply]]
) -> Reply:
    rows = len(group.rows)
    try:
        async with group.connection.begin_nested():
            response = await _record(
                group.connection, envelope.idempotency, envelope.access, work, group
            )
    except BaseException:
        del group.rows[rows:]  # rolled back with the savepoint, as are its locks
        group.locking.clear()
        group.states.clear()
        group.states_after.clear()
        raise
    group.locked |= group.locking
    group.locking.clear()
    if not group.states_after:
        group.states.clear()  # a command that wrote some other way: read the store again
    group.states.update(group.states_after)
    group.states_after.clear()
    if envelope.access is not None:
        group.notes.append(envelope.access)
    return response


async def in_group(
    group: Group, envelope: Envelope, work: Callable[[AsyncConnection], Awaitable[Reply]]
) -> Reply:
    """:func:`once` inside a group's transaction: the command in a savepoint of its own, so
    that its failure undoes it alone and the group's other commands stand."""
    conn, request = group.connection, envelope.idempotency
    unused = request is not None and (request.principal, request.key) in group.unused_keys
    if request is not None and not unused and (stored := await _stored(conn, request)):
        return stored
    try:
        return await _in_savepoint(group, envelope, work)
    except (IntegrityError, ConcurrencyConflict):
        # A concurrent request with the same key committed first: answer as it did.
        if request is None or (stored := await _stored(conn, request)) is None:
            raise
        return stored


async def unused_keys(
    engine: AsyncEngine, requests: Sequence[IdempotentRequest]
) -> frozenset[tuple[str, str]]:
    """Which of these keys no request has used yet, in one query (a batch's lookups)."""
    wanted = {(r.principal, r.key) for r in requests}
    if not wanted:
        return frozenset()
    async with engine.connect() as conn:
        used = await idempotency.used(conn, wanted)
    return frozenset(wanted - used)


@contextlib.asynccontextmanager
async def group_transaction(
    engine: AsyncEngine, unused: frozenset[tuple[str, str]] = frozenset()
) -> AsyncIterator[Group]:
    """One transaction for a group's commands (each in its savepoint, :func:`in_group`),
    their access rows inserted together just before the commit."""
    async with engine.begin() as conn:
        await horizon.join_feed(conn)  # before anything is written (services.store.horizon)
        group = Group(conn, unused_keys=unused)
        yield group
        await access_log.insert(conn, group.rows)
    for note in group.notes:
        note.written = True  # committed with their commands


# Without If-Match the server retries its own version conflicts (API.md conventions): the
# work reloads and re-decides each time. Bounded, with jittered backoff.
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.01


async def _retrying(envelope: Envelope, attempt: Callable[[], Awaitable[Reply]]) -> Reply:
    for n in range(1, MAX_ATTEMPTS):
        try:
            return await attempt()
        except ConcurrencyConflict as conflict:
            # A feed-order conflict is not the client's stale version: always retried.
            if envelope.expected_version is not None and not isinstance(
                conflict, FeedOrderConflict
            ):
                raise
            await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**n))
    return await attempt()


async def transaction(
    engine: AsyncEngine, envelope: Envelope, work: Callable[[AsyncConnection], Awaitable[Reply]]
) -> Reply:
    """One write: ``work`` in one transaction (or a savepoint of the envelope's group) at
    most once per idempotency key, the store's failures as the application's conflicts (the
    API never sees the store)."""
    group = envelope.group

    async def attempt() -> Reply:
        if group is not None:
            return await in_group(group, envelope, work)
        return await once(engine, envelope.idempotency, work, access=envelope.access)

    try:
        return await _retrying(envelope, attempt)
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
