"""The relay: event store → JetStream, in global order, never skipping.

It reads events after its checkpoint in position order (positions are commit order, see
``services.store.eventstore``), publishes each with ``Nats-Msg-Id`` = event id, waits for
every ack of the batch and only then advances its checkpoint. After a crash it republishes
from the checkpoint; the server drops those inside the duplicate window, and projectors
skip anything older than their own checkpoint in any case.

Only one relay publishes at a time: it holds a session-level advisory lock on a dedicated
connection for as long as it runs. A second instance waits on that lock and takes over,
from the shared checkpoint, when the first one's connection dies.
"""

from __future__ import annotations

import asyncio
import contextlib

import nats
import structlog
from nats.aio.client import Client as NatsClient
from nats.js.client import JetStreamContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import feed, metrics
from services.natsconn import servers_from_url
from services.store import eventstore

log = structlog.get_logger("relay")

RELAY_LOCK_KEY = 0x72656C61  # "rela"
ACK_TIMEOUT_SECONDS = 10.0


class LostRelayLock(Exception):
    pass


class Relay:
    def __init__(
        self,
        engine: AsyncEngine,
        nats_url: str,
        *,
        stream_name: str,
        replicas: int = 1,
        name: str = "main",
        batch_size: int = 500,
        idle_poll_seconds: float = 0.05,
    ) -> None:
        self.engine = engine
        self.nats_url = nats_url
        self.stream_name = stream_name
        self.replicas = replicas
        self.name = name
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.position = 0
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Wait for the relay lock, then relay until ``stop`` is set."""
        while not stop.is_set():
            try:
                async with self.engine.connect() as lock_conn:
                    await self._acquire_lock(lock_conn, stop)
                    if stop.is_set():
                        return
                    log.info("relay.leader", relay=self.name)
                    await self._connect_nats()
                    await self._relay_until(stop, lock_conn)
            except (TimeoutError, OSError, LostRelayLock) as err:
                log.warning("relay.interrupted", error=repr(err))
                await _sleep_or_stop(stop, 1.0)
            except Exception as err:
                log.error("relay.failed", error=repr(err), exc_info=True)
                await _sleep_or_stop(stop, 1.0)
            finally:
                await self.close()

    async def _acquire_lock(self, conn: AsyncConnection, stop: asyncio.Event) -> None:
        while not stop.is_set():
            got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK_KEY})
            await conn.commit()
            if got:
                return
            await _sleep_or_stop(stop, 1.0)

    async def _connect_nats(self) -> None:
        self._nc = await nats.connect(
            servers_from_url(self.nats_url),
            name=f"kompetanse-relay-{self.name}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
        )
        self._js = self._nc.jetstream(publish_async_max_pending=self.batch_size * 2)
        await feed.ensure_stream(self._js, self.stream_name, self.replicas)

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = None
        self._js = None

    async def _relay_until(self, stop: asyncio.Event, lock_conn: AsyncConnection) -> None:
        self.position = await self._load_checkpoint()
        while not stop.is_set():
            published = await self.relay_batch(lock_conn)
            if published < self.batch_size:
                await _sleep_or_stop(stop, self.idle_poll_seconds)

    async def _load_checkpoint(self) -> int:
        async with self.engine.connect() as conn:
            value = await conn.scalar(
                text("SELECT position FROM relay_checkpoints WHERE relay = :r"), {"r": self.name}
            )
        return int(value or 0)

    async def relay_batch(self, lock_conn: AsyncConnection | None = None) -> int:
        """Publish the next batch after the checkpoint; return how many were published."""
        assert self._js is not None
        async with self.engine.connect() as conn:
            batch = await eventstore.read_all(
                conn, after_position=self.position, limit=self.batch_size
            )
        if not batch:
            return 0
        if lock_conn is not None:
            # Still the leader? A dead lock connection means another relay may have taken over.
            try:
                await lock_conn.execute(text("SELECT 1"))
            except Exception as err:
                raise LostRelayLock() from err
        futures = []
        for event in batch:
            futures.append(
                await self._js.publish_async(
                    feed.subject_for(event.stream_type, event.stream_id),
                    feed.encode(event),
                    headers={"Nats-Msg-Id": str(event.event_id)},
                )
            )
        acks = await asyncio.wait_for(asyncio.gather(*futures), ACK_TIMEOUT_SECONDS)
        duplicates = sum(1 for ack in acks if ack.duplicate)
        last = batch[-1].position
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO relay_checkpoints (relay, position) VALUES (:r, :p) "
                    "ON CONFLICT (relay) DO UPDATE SET position = excluded.position, "
                    "updated_at = now() WHERE relay_checkpoints.position < excluded.position"
                ),
                {"r": self.name, "p": last},
            )
        self.position = last
        metrics.EVENTS_RELAYED.inc(len(batch))
        metrics.RELAY_DUPLICATES.inc(duplicates)
        metrics.RELAY_POSITION.set(last)
        log.debug(
            "relay.published",
            count=len(batch),
            duplicates=duplicates,
            first_event_id=str(batch[0].event_id),
            last_event_id=str(batch[-1].event_id),
            request_id=batch[-1].metadata.get("request_id"),
            position=last,
        )
        return len(batch)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
