"""The relay: event store → JetStream, in global order, never skipping, never stopping.

It reads the final events after its checkpoint in feed order ((transaction id, position)
below the oldest transaction in flight, see ``services.store.eventstore``), publishes each
with ``Nats-Msg-Id`` = event id and the cursor of the event before it, waits for every ack
of the batch and only then advances its checkpoint. After a crash it republishes
from the checkpoint; the server drops those inside the duplicate window, and projectors
skip anything older than their own checkpoint in any case.

Only one relay publishes at a time: it holds a session-level advisory lock on a connection
of its own, outside every pool, that is closed whenever anything goes wrong. Closing it is
what releases the lock, so no failure path can leave the lock held by an idle connection
(the pooled connection of an earlier version went back to the pool still holding it, and
the feed stopped for good). A standby waits on the lock and takes over from the shared
checkpoint within about a second of the holder's connection closing.

An event that cannot be published (see ``events.subjects.check_publishable``; the store
refuses such events, so only older code or a manual insert can leave one) is published on
the dead-letter subject instead, recorded in ``dead_letters`` and stepped over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from dataclasses import KW_ONLY, dataclass, field

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js.client import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from services import feed, metrics
from services.natsconn import close_quietly, connect_feed_client
from services.retry import Backoff
from services.store import dead_letters, eventstore
from services.store.eventstore import START, Cursor, RecordedEvent, UnpublishableEvent
from services.watchdog import Track

log = structlog.get_logger("relay")

RELAY_LOCK_KEY = 0x72656C61  # "rela"
ACK_TIMEOUT_SECONDS = 2.0  # a batch not acked by then is published again (same ids)
LOCK_CHECK_TIMEOUT_SECONDS = 2.0
RETRY_PAUSE_SECONDS = 0.25
BUSY_POLL_SECONDS = 0.01  # the wait after a poll that found events (see _relay_until)
MAX_RETRY_PAUSE_SECONDS = 2.0  # keeps recovery within seconds once the cause is gone
RECONNECT_AFTER_FAILED_BATCHES = 5  # then drop NATS and the lock and start over
DEAD_LETTER_CONSUMER = "relay"


class LostRelayLock(Exception):
    pass


@dataclass(eq=False, repr=False)
class Relay:
    engine: AsyncEngine
    nats_url: str
    _: KW_ONLY
    stream_name: str
    replicas: int = 1
    name: str = "main"
    batch_size: int = 500
    idle_poll_seconds: float = 0.05
    ack_timeout_seconds: float = ACK_TIMEOUT_SECONDS
    liveness: Track | None = None
    cursor: Cursor = field(default=START, init=False)
    _nc: NatsClient | None = field(default=None, init=False)
    _js: JetStreamContext | None = field(default=None, init=False)
    _lock_engine: AsyncEngine = field(init=False)

    def __post_init__(self) -> None:
        # The lock's own engine: no pool, so leaving its ``connect()`` block closes the
        # connection, and with it the session lock, on every path out.
        self._lock_engine = create_async_engine(
            self.engine.url,
            poolclass=NullPool,
            connect_args={
                "timeout": 5,
                "command_timeout": 10,
                "server_settings": {
                    "application_name": f"kompetanse-relay-{self.name}@{socket.gethostname()}"
                    f":{os.getpid()}",
                    # A holder whose host vanishes is noticed in seconds, not hours.
                    "tcp_keepalives_idle": "5",
                    "tcp_keepalives_interval": "2",
                    "tcp_keepalives_count": "3",
                },
            },
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for the relay lock, then relay until ``stop`` is set; start over after any
        failure (database, NATS, lost lock, a bug) with the lock released, backing off while
        the failures go on."""
        backoff = Backoff(RETRY_PAUSE_SECONDS, MAX_RETRY_PAUSE_SECONDS)
        try:
            while not stop.is_set():
                try:
                    async with self._lock_engine.connect() as lock_conn:
                        await self._acquire_lock(lock_conn, stop)
                        if stop.is_set():
                            return
                        log.info("relay.leader", relay=self.name)
                        await self._connect_nats()
                        backoff.reset()
                        await self._relay_until(stop, lock_conn)
                except (TimeoutError, OSError, LostRelayLock) as err:
                    backoff.log(log, "relay.interrupted", err)
                except Exception as err:
                    log.error("relay.failed", error=repr(err), exc_info=True)
                finally:
                    await self.close()
                await _sleep_or_stop(stop, backoff.next())
        finally:
            await self._lock_engine.dispose()

    async def _acquire_lock(self, conn: AsyncConnection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY})
            await conn.commit()
            if got:
                return
            if self.liveness is not None:
                self.liveness.pending(False)  # a standby has nothing to do
            await _sleep_or_stop(stop, 0.5)

    async def _connect_nats(self) -> None:
        self._nc = await connect_feed_client(self.nats_url, f"kompetanse-relay-{self.name}")
        self._js = self._nc.jetstream(timeout=2, publish_async_max_pending=self.batch_size * 2)
        await feed.ensure_stream(self._js, self.stream_name, self.replicas)
        await feed.ensure_dead_letter_stream(self._js, self.stream_name, self.replicas)

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        await close_quietly(nc)

    async def _relay_until(self, stop: asyncio.Event, lock_conn: AsyncConnection) -> None:
        self.cursor = await self._load_checkpoint()
        failures = 0
        while not stop.is_set():
            try:
                published = await self.relay_batch(lock_conn)
            except (TimeoutError, nats.errors.Error) as err:
                # Acks lost or refused (a stream leader moving, a stalled server): publish the
                # same batch again; the duplicate window drops what did arrive.
                failures += 1
                metrics.RELAY_RETRIES.inc()
                log.warning("relay.batch_retry", error=repr(err), attempt=failures)
                if failures >= RECONNECT_AFTER_FAILED_BATCHES:
                    raise
                await _sleep_or_stop(stop, RETRY_PAUSE_SECONDS)
                continue
            failures = 0
            if published == 0:
                await _sleep_or_stop(stop, self.idle_poll_seconds)
            elif published < self.batch_size:
                # Events are flowing: look again soon, so an event waits a short poll, not
                # the idle one (projection lag at a steady load); an idle feed still costs
                # only one read per idle poll.
                await _sleep_or_stop(stop, min(BUSY_POLL_SECONDS, self.idle_poll_seconds))

    async def _load_checkpoint(self) -> Cursor:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT transaction_id, position FROM relay_checkpoints WHERE relay = :r"),
                    {"r": self.name},
                )
            ).first()
        return START if row is None else Cursor(row.transaction_id, row.position)

    async def _still_leader(self, lock_conn: AsyncConnection) -> None:
        """A dead lock connection means another relay may have taken over."""
        try:
            await asyncio.wait_for(lock_conn.execute(text("SELECT 1")), LOCK_CHECK_TIMEOUT_SECONDS)
        except Exception as err:
            raise LostRelayLock() from err

    async def relay_batch(self, lock_conn: AsyncConnection | None = None) -> int:
        """Publish the next batch after the checkpoint; return how many were published."""
        assert self._js is not None
        async with self.engine.connect() as conn:
            batch = await eventstore.read_feed(conn, after=self.cursor, limit=self.batch_size)
        if self.liveness is not None:
            self.liveness.pending(bool(batch))
        if not batch:
            return 0
        if lock_conn is not None:
            await self._still_leader(lock_conn)
        futures, dead = [], []
        previous = self.cursor
        for event in batch:
            try:
                subject = feed.subject_of(event)
                headers = feed.publish_headers(event, previous)
            except UnpublishableEvent as err:
                dead.append((event, str(err)))
                subject = feed.dead_letter_subject(self.stream_name)
                headers = {"Nats-Msg-Id": f"dead-{event.event_id}", "Kompetanse-Reason": str(err)}
            futures.append(
                await self._js.publish_async(subject, feed.encode(event), headers=headers)
            )
            previous = event.cursor
        acks = await asyncio.wait_for(asyncio.gather(*futures), self.ack_timeout_seconds)
        duplicates = sum(1 for ack in acks if ack.duplicate)
        last = batch[-1].cursor
        async with self.engine.begin() as conn:
            for event, reason in dead:
                await dead_letters.record(conn, DEAD_LETTER_CONSUMER, event, reason)
            await conn.execute(
                text(
                    "INSERT INTO relay_checkpoints (relay, transaction_id, position) "
                    "VALUES (:r, :t, :p) ON CONFLICT (relay) DO UPDATE SET "
                    "transaction_id = excluded.transaction_id, position = excluded.position, "
                    "updated_at = now() WHERE (relay_checkpoints.transaction_id, "
                    "relay_checkpoints.position) < (excluded.transaction_id, excluded.position)"
                ),
                {"r": self.name, "t": last.transaction_id, "p": last.position},
            )
        self.cursor = last
        if self.liveness is not None:
            self.liveness.progressed()
        self._count(batch, duplicates, dead)
        return len(batch)

    def _count(
        self, batch: list[RecordedEvent], duplicates: int, dead: list[tuple[RecordedEvent, str]]
    ) -> None:
        last = batch[-1]
        metrics.EVENTS_RELAYED.inc(len(batch) - len(dead))
        metrics.RELAY_DUPLICATES.inc(duplicates)
        metrics.RELAY_POSITION.set(last.position)
        for event, reason in dead:
            metrics.DEAD_LETTERS.labels(DEAD_LETTER_CONSUMER).inc()
            log.error(
                "relay.dead_letter",
                position=event.position,
                event_id=str(event.event_id),
                stream_type=event.stream_type,
                stream_id=event.stream_id,
                type=event.type,
                reason=reason,
            )
        log.debug(
            "relay.published",
            count=len(batch),
            duplicates=duplicates,
            first_event_id=str(batch[0].event_id),
            last_event_id=str(last.event_id),
            request_id=last.metadata.get("request_id"),
            position=last.position,
        )


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
