"""Where the feed stands: relay and projection lag, open dead letters, and whether JetStream
answers. One reading for ``/readyz``, ``kompetanse lag`` and ``kompetanse dead-letters``."""

from __future__ import annotations

import asyncio
from datetime import datetime

import msgspec
import nats
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.natsconn import close_quietly, servers_from_url
from services.store import dead_letters, eventstore
from services.store.eventstore import START, Cursor

ROUND_TRIP_TIMEOUT_SECONDS = 1.0


LAG_COUNT_CAP = 1_000_000  # a lag is counted up to this many events (it stays cheap)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # "relay:<name>" or the projection's name
    cursor: Cursor
    updated_at: datetime
    lag: int  # events in the feed after it (up to LAG_COUNT_CAP)


class Lags(msgspec.Struct, frozen=True, kw_only=True):
    relay: int  # events in the store not yet published
    projections: dict[str, int]  # per projection: events in the store not yet applied
    open_dead_letters: int

    def worst(self) -> int:
        return max([self.relay, *self.projections.values()])


async def checkpoints(conn: AsyncConnection) -> list[Checkpoint]:
    """Every consumer's place in the feed and how far behind it is."""
    rows = await conn.execute(
        text(
            "SELECT 'relay:' || relay AS name, transaction_id, position, updated_at "
            "FROM relay_checkpoints UNION ALL "
            "SELECT projection, transaction_id, position, updated_at FROM projection_checkpoints "
            "ORDER BY 1"
        )
    )
    found = []
    for row in rows.all():
        cursor = Cursor(row.transaction_id, row.position)
        lag = await eventstore.events_after(conn, cursor, cap=LAG_COUNT_CAP)
        found.append(Checkpoint(name=row.name, cursor=cursor, updated_at=row.updated_at, lag=lag))
    return found


async def lags(engine: AsyncEngine) -> Lags:
    async with engine.connect() as conn:
        found = await checkpoints(conn)
        dead = await dead_letters.count_open(conn)
    relays = [c.lag for c in found if c.name.startswith("relay:")]
    # No relay has published yet: everything in the store is its lag.
    relay_lag = min(relays) if relays else await _all_events(engine)
    return Lags(
        relay=relay_lag,
        projections={c.name: c.lag for c in found if not c.name.startswith("relay:")},
        open_dead_letters=dead,
    )


async def _all_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await eventstore.events_after(conn, START, cap=LAG_COUNT_CAP)


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
        await close_quietly(nc)
