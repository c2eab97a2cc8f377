"""Runs projections: from JetStream into PostgreSQL, exactly once (rebuilds: ``rebuild``).

Exactly once: each fetched batch is applied in one PostgreSQL transaction that first locks
the projection's checkpoint row, skips every event at or below the checkpoint (a
redelivery), applies the rest and moves the checkpoint; only after the commit are the
messages acked. A crash before the commit redelivers and re-applies; after it, redelivers
and skips.

Never skipping: JetStream is the feed, PostgreSQL the record. If a message arrives whose
position is past the checkpoint with events in between (a message lost or reordered, two
instances sharing a consumer), the events in between are read from the event store and
applied first; their later redelivery is then skipped. Positions are commit order, so
everything below a published position is already in the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

import nats
import structlog
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import feed, metrics
from services.natsconn import servers_from_url
from services.projector.projection import Projection
from services.retry import Backoff
from services.store import dead_letters, eventstore
from services.store.eventstore import RecordedEvent
from services.watchdog import Track

log = structlog.get_logger("projector")

LIVE = ""
REBUILD = "__rebuild"
ACK_WAIT_SECONDS = 10
LAG_CHECK_SECONDS = 5.0
# Errors of the connection, not of the event: the batch is tried again after reconnecting.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    OSError,
    TimeoutError,
    nats.errors.Error,
)


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


async def lock_checkpoint(conn: AsyncConnection, name: str) -> int:
    value = await conn.scalar(
        text("SELECT position FROM projection_checkpoints WHERE projection = :n FOR UPDATE"),
        {"n": name},
    )
    return int(value or 0)


async def apply_in_transaction(
    conn: AsyncConnection, projection: Projection, events: Sequence[RecordedEvent]
) -> tuple[int, int]:
    """Apply ``events`` (in delivery order) exactly once; return (applied, skipped)."""
    checkpoint = await lock_checkpoint(conn, projection.name)
    start = checkpoint
    skipped = 0
    to_apply: list[RecordedEvent] = []
    for event in events:
        if event.position <= checkpoint:
            skipped += 1
            continue
        if event.position > checkpoint + 1:
            # Possibly a gap (a lost or reordered message, or only a rolled-back append):
            # the store has whatever committed in between.
            to_apply += await eventstore.read_all(
                conn, after_position=checkpoint, before_position=event.position, limit=100_000
            )
        to_apply.append(event)
        checkpoint = event.position
    await apply_all(conn, projection, to_apply, LIVE)
    applied = len(to_apply)
    checkpoint = to_apply[-1].position if to_apply else start
    if applied:
        await conn.execute(
            text(
                "UPDATE projection_checkpoints SET position = :p, updated_at = now() "
                "WHERE projection = :n"
            ),
            {"p": checkpoint, "n": projection.name},
        )
    return applied, skipped


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


class Projector:
    """One durable consumer feeding one projection."""

    def __init__(
        self,
        engine: AsyncEngine,
        nats_url: str,
        projection: Projection,
        *,
        stream_name: str,
        batch_size: int = 256,
        replicas: int = 1,
        liveness: Track | None = None,
    ) -> None:
        self.engine = engine
        self.nats_url = nats_url
        self.projection = projection
        self.stream_name = stream_name
        self.batch_size = batch_size
        self.replicas = replicas
        self.liveness = liveness
        self._lag_checked_at = 0.0

    @property
    def durable(self) -> str:
        return f"projector-{self.projection.name}"

    async def run(self, stop: asyncio.Event) -> None:
        """Project until ``stop`` is set, starting over after any failure: a projector
        started while PostgreSQL or NATS is away waits for them instead of exiting."""
        backoff = Backoff(0.25, 2.0)
        while not stop.is_set():
            nc = None
            try:
                async with self.engine.begin() as conn:
                    await ensure_tables(conn, self.projection)
                nc = await nats.connect(
                    servers_from_url(self.nats_url),
                    name=f"kompetanse-{self.durable}",
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    ping_interval=5,
                    max_outstanding_pings=2,
                )
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
                if nc is not None and not nc.is_closed:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(nc.close(), 2.0)

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
                    "SELECT coalesce((SELECT max(position) FROM relay_checkpoints), 0) > "
                    "coalesce((SELECT position FROM projection_checkpoints "
                    "WHERE projection = :n), 0)"
                ),
                {"n": self.projection.name},
            )
        self.liveness.pending(bool(behind))

    async def handle(self, msgs: Sequence) -> None:  # type: ignore[type-arg]
        events = [feed.decode(m.data) for m in msgs]
        try:
            async with self.engine.begin() as conn:
                applied, skipped = await apply_in_transaction(conn, self.projection, events)
        except TRANSIENT_ERRORS:
            raise
        except Exception as err:
            log.error("projector.batch_failed", projection=self.projection.name, error=repr(err))
            async with self.engine.begin() as conn:
                applied, skipped = await apply_stepping_over_poison(conn, self.projection, events)
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
    conn: AsyncConnection, projection: Projection, events: Sequence[RecordedEvent]
) -> tuple[int, int]:
    """Like :func:`apply_in_transaction`, one event at a time, each in a savepoint: an event
    the projection cannot apply (a bug, a payload it cannot read) becomes a dead letter of
    this projection and the rest go on, instead of the projection stopping at it for good."""
    checkpoint = await lock_checkpoint(conn, projection.name)
    start, skipped, applied = checkpoint, 0, 0
    todo: list[RecordedEvent] = []
    for event in events:
        if event.position <= checkpoint:
            skipped += 1
            continue
        if event.position > checkpoint + 1:
            todo += await eventstore.read_all(
                conn, after_position=checkpoint, before_position=event.position, limit=100_000
            )
        todo.append(event)
        checkpoint = event.position
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
        await conn.execute(
            text(
                "UPDATE projection_checkpoints SET position = :p, updated_at = now() "
                "WHERE projection = :n"
            ),
            {"p": todo[-1].position if todo else start, "n": projection.name},
        )
    return applied, skipped
