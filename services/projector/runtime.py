"""Runs projections: from JetStream into PostgreSQL, exactly once (rebuilds: ``rebuild``).

Exactly once: each fetched batch is applied in one PostgreSQL transaction that first locks
the projection's checkpoint row, skips every event at or below the checkpoint (a
redelivery), applies the rest and moves the checkpoint; only after the commit are the
messages acked. A crash before the commit redelivers and re-applies; after it, redelivers
and skips.

Never skipping: JetStream is the feed, PostgreSQL the record. Each message names the
cursor of the event before it in the feed. If that is not the checkpoint (a message lost or
reordered, two instances sharing a consumer, a dead letter of the relay), the events in
between are read from the event store and applied first; their later redelivery is then
skipped. The relay publishes only final events, so everything before a published one is in
the store. When the feed stalls (a NATS stream leader lost, the relay down) while the store
moves on, the projector reads the store itself, so read models do not wait for the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import nats
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import feed, metrics
from services.natsconn import close_quietly, connect_feed_client
from services.projector.projection import Projection
from services.retry import Backoff
from services.store import dead_letters, eventstore
from services.store.eventstore import START, Cursor, RecordedEvent
from services.watchdog import Track

log = structlog.get_logger("projector")

LIVE = ""
REBUILD = "__rebuild"
ACK_WAIT_SECONDS = 10
LAG_CHECK_SECONDS = 5.0
FEED_SILENCE_SECONDS = 1.0  # the feed delivered nothing for this long: read the store
STORE_POLL_SECONDS = 0.25  # how often a projector checks for that
# Errors of the connection, not of the event: the batch is tried again after reconnecting.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    OSError,
    TimeoutError,
    nats.errors.Error,
)


# A message's event and the cursor the relay says comes before it (None: not said).
Delivery = tuple[RecordedEvent, Cursor | None]


async def ensure_tables(conn: AsyncConnection, projection: Projection, suffix: str = LIVE) -> None:
    for statement in projection.ddl(suffix):
        await conn.execute(text(statement))
    await conn.execute(
        text(
            "INSERT INTO projection_checkpoints (projection, position) VALUES (:n, 0) "
            "ON CONFLICT (projection) DO NOTHING"
        ),
        {"n": projection.name},
    )


async def read_checkpoint(conn: AsyncConnection, name: str, *, lock: bool = False) -> Cursor:
    """The projection's checkpoint; with ``lock``, held (FOR UPDATE) until the commit."""
    query = "SELECT transaction_id, position FROM projection_checkpoints WHERE projection = :n"
    row = (await conn.execute(text(query + " FOR UPDATE" if lock else query), {"n": name})).first()
    return START if row is None else Cursor(row.transaction_id, row.position)


async def lock_checkpoint(conn: AsyncConnection, name: str) -> Cursor:
    return await read_checkpoint(conn, name, lock=True)


async def _move_checkpoint(conn: AsyncConnection, name: str, cursor: Cursor) -> None:
    await conn.execute(
        text(
            "UPDATE projection_checkpoints SET transaction_id = :t, position = :p, "
            "updated_at = now() WHERE projection = :n"
        ),
        {"t": cursor.transaction_id, "p": cursor.position, "n": name},
    )


async def _unapplied(
    conn: AsyncConnection, checkpoint: Cursor, deliveries: Sequence[Delivery]
) -> tuple[list[RecordedEvent], int]:
    """What ``deliveries`` add after ``checkpoint``, in feed order, with whatever the store
    holds between them and the checkpoint; and how many were redeliveries (skipped)."""
    todo: list[RecordedEvent] = []
    skipped = 0
    for event, previous in deliveries:
        if event.cursor <= checkpoint:
            skipped += 1
            continue
        if previous != checkpoint:
            todo += await eventstore.read_feed(
                conn, after=checkpoint, before=event.cursor, limit=100_000
            )
        todo.append(event)
        checkpoint = event.cursor
    return todo, skipped


async def apply_in_transaction(
    conn: AsyncConnection, projection: Projection, deliveries: Sequence[Delivery]
) -> tuple[int, int]:
    """Apply ``deliveries`` (in delivery order) exactly once; return (applied, skipped)."""
    checkpoint = await lock_checkpoint(conn, projection.name)
    todo, skipped = await _unapplied(conn, checkpoint, deliveries)
    await apply_all(conn, projection, todo, LIVE)
    if todo:
        await _move_checkpoint(conn, projection.name, todo[-1].cursor)
    return len(todo), skipped


async def catch_up_from_store(conn: AsyncConnection, projection: Projection, limit: int) -> int:
    """Apply the final events after the checkpoint straight from the store (the feed is
    stalled); their deliveries, when the feed resumes, are skipped. Returns how many."""
    checkpoint = await lock_checkpoint(conn, projection.name)
    todo = await eventstore.read_feed(conn, after=checkpoint, limit=limit)
    await apply_all(conn, projection, todo, LIVE)
    if todo:
        await _move_checkpoint(conn, projection.name, todo[-1].cursor)
    return len(todo)


async def apply_all(
    conn: AsyncConnection, projection: Projection, events: Sequence[RecordedEvent], suffix: str
) -> None:
    """Apply events in order: in one go where the projection can fold a batch itself (fewer
    round trips), else one by one."""
    # The relay's dead letters never reached the stream; step over them here too (gap-fill
    # and rebuild read the store), so live read models equal rebuilt ones.
    events = [e for e in events if feed.is_publishable(e)]
    if not events:
        return
    structlog.contextvars.bind_contextvars(
        event_id=str(events[-1].event_id), request_id=events[-1].metadata.get("request_id")
    )
    await apply_publishable(conn, projection, events, suffix)


async def apply_publishable(
    conn: AsyncConnection, projection: Projection, events: Sequence[RecordedEvent], suffix: str
) -> None:
    """:func:`apply_all` for events already known to be publishable (the rebuild checks a
    page once for all its projections)."""
    apply_batch = getattr(projection, "apply_batch", None)
    if apply_batch is not None:
        await apply_batch(conn, events, suffix)
        return
    for event in events:
        await projection.apply(conn, event, suffix)


@dataclass(eq=False, repr=False)
class Projector:
    """One durable consumer feeding one projection."""

    engine: AsyncEngine
    nats_url: str
    projection: Projection
    _: KW_ONLY
    stream_name: str
    batch_size: int = 256
    replicas: int = 1
    liveness: Track | None = None
    _lag_checked_at: float = field(default=0.0, init=False)
    _fed_at: float = field(default=0.0, init=False)  # when the feed last delivered (monotonic)

    @property
    def durable(self) -> str:
        return f"projector-{self.projection.name}"

    async def run(self, stop: asyncio.Event) -> None:
        """Project from the feed until ``stop`` is set, and from the store whenever the feed
        is silent (see :meth:`_follow_store`)."""
        follower = asyncio.create_task(self._follow_store(stop))
        try:
            await self._follow_feed(stop)
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    async def _follow_feed(self, stop: asyncio.Event) -> None:
        """Consume the feed, starting over after any failure: a projector started while
        PostgreSQL or NATS is away waits for them instead of exiting."""
        backoff = Backoff(0.25, 2.0)
        while not stop.is_set():
            nc = None
            try:
                async with self.engine.begin() as conn:
                    await ensure_tables(conn, self.projection)
                nc = await connect_feed_client(self.nats_url, f"kompetanse-{self.durable}")
                sub = await self._subscribe(nc.jetstream(timeout=2))
                log.info("projector.started", projection=self.projection.name)
                backoff.reset()
                while not stop.is_set():
                    try:
                        msgs = await sub.fetch(self.batch_size, timeout=1.0)
                    except TimeoutError:  # nats-py raises its own subclass or the builtin
                        await self._idle()
                        continue
                    if self.liveness is not None:
                        self.liveness.pending(True)
                    await self.handle(msgs)
                    if self.liveness is not None:
                        self.liveness.progressed()
            except Exception as err:
                backoff.log(log, "projector.interrupted", err, projection=self.projection.name)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff.next())
            finally:
                await close_quietly(nc)

    async def _subscribe(self, js: JetStreamContext) -> JetStreamContext.PullSubscription:
        await feed.ensure_stream(js, self.stream_name, self.replicas)
        return await js.pull_subscribe(
            feed.STREAM_SUBJECTS,
            durable=self.durable,
            stream=self.stream_name,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                # An ack lost with a stream leader is redelivered (and skipped) after this.
                ack_wait=ACK_WAIT_SECONDS,
                max_ack_pending=self.batch_size * 4,
            ),
        )

    async def _follow_store(self, stop: asyncio.Event) -> None:
        """Whenever the feed has delivered nothing for ``FEED_SILENCE_SECONDS``, apply from
        the store whatever is final and not projected yet: the feed stalled while writes go
        on (a stream leader lost, NATS frozen or away, the relay down), and read models need
        not wait for it. A healthy feed delivers within milliseconds, so this finds nothing.
        Independent of the feed's connection, so nothing there can hold it up; errors (the
        database away too) only mean trying again."""
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), STORE_POLL_SECONDS)
            if time.monotonic() - self._fed_at < FEED_SILENCE_SECONDS:
                continue
            try:
                await self._catch_up()
            except Exception as err:
                log.debug("projector.store_unavailable", error=repr(err))

    async def _behind_store(self) -> bool:
        """Read-only first: locking the checkpoint gives the transaction an id and a commit
        to flush, which an idle projector should not pay several times a second."""
        async with self.engine.connect() as conn:
            checkpoint = await read_checkpoint(conn, self.projection.name)
            return bool(await eventstore.read_feed(conn, after=checkpoint, limit=1))

    async def _catch_up(self) -> None:
        if not await self._behind_store():
            return
        caught_up = 0
        while True:
            async with self.engine.begin() as conn:
                applied = await catch_up_from_store(conn, self.projection, self.batch_size)
            caught_up += applied
            if applied < self.batch_size:
                break
        if caught_up:
            metrics.EVENTS_PROJECTED.labels(self.projection.name).inc(caught_up)
            metrics.EVENTS_FROM_STORE.labels(self.projection.name).inc(caught_up)
            log.info(
                "projector.caught_up_from_store", projection=self.projection.name, events=caught_up
            )
            if self.liveness is not None:
                self.liveness.progressed()

    async def _idle(self) -> None:
        """Nothing fetched. Behind the relay all the same? Then work is pending, and the
        watchdog ends the process if that lasts (a consumer that silently stopped
        delivering is fixed by starting over)."""
        if self.liveness is None or time.monotonic() - self._lag_checked_at < LAG_CHECK_SECONDS:
            return
        self._lag_checked_at = time.monotonic()
        async with self.engine.connect() as conn:
            behind = await conn.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM relay_checkpoints r, projection_checkpoints p "
                    "WHERE p.projection = :n "
                    "AND (r.transaction_id, r.position) > (p.transaction_id, p.position))"
                ),
                {"n": self.projection.name},
            )
        self.liveness.pending(bool(behind))

    async def handle(self, msgs: Sequence[Any]) -> None:
        self._fed_at = time.monotonic()
        deliveries = [(feed.decode(m.data), feed.previous_of(m.headers)) for m in msgs]
        events = [event for event, _ in deliveries]
        try:
            async with self.engine.begin() as conn:
                applied, skipped = await apply_in_transaction(conn, self.projection, deliveries)
        except TRANSIENT_ERRORS:
            raise
        except Exception as err:
            log.error("projector.batch_failed", projection=self.projection.name, error=repr(err))
            async with self.engine.begin() as conn:
                applied, skipped = await apply_stepping_over_poison(
                    conn, self.projection, deliveries
                )
        for m in msgs:
            await m.ack()
        metrics.EVENTS_PROJECTED.labels(self.projection.name).inc(applied)
        metrics.EVENTS_SKIPPED.labels(self.projection.name).inc(skipped)
        if events:
            metrics.PROJECTION_POSITION.labels(self.projection.name).set(events[-1].position)
        log.debug(
            "projector.batch",
            projection=self.projection.name,
            applied=applied,
            skipped=skipped,
            last_event_id=str(events[-1].event_id) if events else None,
        )


async def apply_stepping_over_poison(
    conn: AsyncConnection, projection: Projection, deliveries: Sequence[Delivery]
) -> tuple[int, int]:
    """Like :func:`apply_in_transaction`, one event at a time, each in a savepoint: an event
    the projection cannot apply (a bug, a payload it cannot read) becomes a dead letter of
    this projection and the rest go on, instead of the projection stopping at it for good."""
    checkpoint = await lock_checkpoint(conn, projection.name)
    todo, skipped = await _unapplied(conn, checkpoint, deliveries)
    applied = 0
    for event in todo:
        try:
            async with conn.begin_nested():
                await apply_all(conn, projection, [event], LIVE)
            applied += 1
        except TRANSIENT_ERRORS:
            raise
        except Exception as err:
            consumer = f"projection:{projection.name}"
            await dead_letters.record(conn, consumer, event, f"{type(err).__name__}: {err}")
            metrics.DEAD_LETTERS.labels(consumer).inc()
            log.error(
                "projector.dead_letter",
                projection=projection.name,
                position=event.position,
                event_id=str(event.event_id),
                type=event.type,
                error=repr(err),
            )
    if todo:
        await _move_checkpoint(conn, projection.name, todo[-1].cursor)
    return applied, skipped
