"""Where read-model queries run: on the replica when one is configured and fresh enough,
else on the primary; and never on a replica that has not yet replayed the caller's own
last write.

- Freshness: ``check_replica`` (replay lag within ``KOMPETANSE_REPLICA_MAX_LAG_SECONDS``,
  WAL receiver streaming) is asked at most every quarter second and the answer shared by
  all requests in between; a replica that fails it, or does not answer, is skipped.
- Reading one's own writes: after a write, the API notes the primary's WAL position for the
  acting party (:meth:`ReadRouter.note_write`); that party's reads in the next
  ``REMEMBER_WRITES_SECONDS`` go to the replica only once it has replayed past that position.
  The note is a row on the primary (``services.store.write_notes``), not memory of this
  process: the party's next read may be served by another API worker or instance. Looking
  it up costs each routed read one primary-key read on the primary; while the primary does
  not answer, reads go to the replica unchecked (within the lag bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import metrics
from services.store import write_notes
from services.store.replica import ReplicaTooStale, check_replica

FRESHNESS_CACHE_SECONDS = 0.25
REMEMBER_WRITES_SECONDS = 60.0

# The acting party of the request being served (set by the API once it knows the caller).
acting_party: ContextVar[str | None] = ContextVar("acting_party", default=None)


@dataclass(frozen=True)
class _Freshness:
    usable: bool
    replayed_lsn: int
    at: float


def party_of(kind: str, *ids: str | None) -> str:
    """A stable key for the acting party (who it is and for which organisation)."""
    return "|".join([kind, *(i or "" for i in ids)])


class ReadRouter:
    def __init__(
        self, primary: AsyncEngine, replica: AsyncEngine | None, max_lag_seconds: float
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag_seconds = max_lag_seconds
        self._freshness: _Freshness | None = None
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        engine = await self._engine_for(acting_party.get())
        target = "replica" if engine is self.replica else "primary"
        metrics.READ_MODEL_QUERIES.labels(target).inc()
        async with engine.connect() as conn:
            yield conn

    async def note_write(self, party: str | None) -> None:
        """The acting party just wrote: its next reads wait for the replica to replay it."""
        if self.replica is None or party is None:
            return
        await write_notes.note(self.primary, party, REMEMBER_WRITES_SECONDS)

    async def _engine_for(self, party: str | None) -> AsyncEngine:
        if self.replica is None:
            return self.primary
        freshness = await self._replica_freshness()
        if not freshness.usable:
            return self.primary
        if party is None:
            return self.replica
        try:
            lsn = await write_notes.last_write(self.primary, party, REMEMBER_WRITES_SECONDS)
        except (OSError, SQLAlchemyError):
            # The primary does not answer: a read there would fail too. The replica serves,
            # within its lag bound, as it serves every party that has not just written.
            return self.replica
        if lsn is not None and freshness.replayed_lsn < lsn:
            # The shared reading may be up to a quarter second old: ask afresh once.
            freshness = await self._replica_freshness(force=True)
            if freshness.replayed_lsn < lsn:
                return self.primary
        return self.replica

    async def _replica_freshness(self, force: bool = False) -> _Freshness:
        current = self._freshness
        if not force and current and time.monotonic() - current.at < FRESHNESS_CACHE_SECONDS:
            return current
        async with self._lock:
            current = self._freshness
            if not force and current and time.monotonic() - current.at < FRESHNESS_CACHE_SECONDS:
                return current
            self._freshness = await self._measure()
            return self._freshness

    async def _measure(self) -> _Freshness:
        assert self.replica is not None
        try:
            async with self.replica.connect() as conn:
                await asyncio.wait_for(check_replica(conn, self.max_lag_seconds), 1.0)
                replayed = await conn.scalar(
                    text(
                        "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
                        "ELSE pg_current_wal_lsn() END)::text"
                    )
                )
        except (ReplicaTooStale, TimeoutError, OSError, SQLAlchemyError):
            return _Freshness(False, 0, time.monotonic())
        return _Freshness(True, write_notes.lsn_number(str(replayed)), time.monotonic())
