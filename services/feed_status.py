"""Where the feed stands: relay and projection lag, open dead letters, and whether JetStream
answers. One reading for ``/readyz``, ``kompetanse lag`` and ``kompetanse dead-letters``."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.natsconn import servers_from_url
from services.store import dead_letters

ROUND_TRIP_TIMEOUT_SECONDS = 1.0


class Lags(msgspec.Struct, frozen=True, kw_only=True):
    head: int
    relay: int  # events in the store not yet published
    projections: dict[str, int]  # per projection: events in the store not yet applied
    open_dead_letters: int

    def worst(self) -> int:
        return max([self.relay, *self.projections.values()])


async def lags(engine: AsyncEngine) -> Lags:
    async with engine.connect() as conn:
        head = int(await conn.scalar(text("SELECT coalesce(max(position), 0) FROM events")) or 0)
        relay = await conn.scalar(text("SELECT max(position) FROM relay_checkpoints"))
        rows = (
            await conn.execute(text("SELECT projection, position FROM projection_checkpoints"))
        ).all()
        dead = await dead_letters.count_open(conn)
    return Lags(
        head=head,
        relay=head - int(relay or 0),
        projections={name: head - int(position) for name, position in rows},
        open_dead_letters=dead,
    )


class JetStreamProbe:
    """A NATS connection kept for probing, made again whenever it is gone."""

    def __init__(self, nats_url: str, stream_name: str) -> None:
        self.nats_url = nats_url
        self.stream_name = stream_name
        self._nc: NatsClient | None = None

    async def round_trip(self) -> str | None:
        """None when JetStream answered a stream-info request in time, else why not. A
        connected client is not enough: a frozen server keeps the socket open."""
        timeout = ROUND_TRIP_TIMEOUT_SECONDS
        try:
            if self._nc is None or self._nc.is_closed:
                self._nc = await asyncio.wait_for(
                    nats.connect(
                        servers_from_url(self.nats_url),
                        name="kompetanse-probe",
                        connect_timeout=timeout,
                        allow_reconnect=True,
                        max_reconnect_attempts=-1,
                        reconnect_time_wait=0.25,
                    ),
                    timeout * 2,
                )
            js = self._nc.jetstream(timeout=timeout)
            await asyncio.wait_for(js.stream_info(self.stream_name), timeout)
        except Exception as err:
            return f"{type(err).__name__}: {err}"[:200]
        return None

    async def close(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.close(), 2.0)
