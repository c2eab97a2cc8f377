"""Reads from a PostgreSQL streaming replica, with a bound on how stale they may be.

Read models are written on the primary (by the projectors) and reach a replica by
streaming replication. A read served from the replica is therefore behind the primary by
the replica's *replay lag*. ``read_engine`` returns an engine for ``DATABASE_REPLICA_URL``
when it is set (otherwise the primary's), and ``check_replica`` refuses a replica that is
more than ``max_lag_seconds`` behind, so a caller can fall back to the primary.

How staleness is measured (on the replica, no round trip to the primary):
- the WAL receiver must be ``streaming`` (a dead link is noticed at once when the primary's
  connection closes, and within ``wal_receiver_timeout`` — 5 s in deploy/postgres — when
  the network goes silent);
- if everything received has been replayed (``pg_last_wal_receive_lsn() =
  pg_last_wal_replay_lsn()``) the lag is 0, otherwise it is ``now() -
  pg_last_xact_replay_timestamp()`` (the commit time of the last replayed transaction).

The stated bound: a read accepted by ``check_replica`` is at most ``max_lag_seconds`` +
``wal_receiver_timeout`` older than the primary (default 5 s + 5 s), and in the ordinary
case (link up) at most ``max_lag_seconds``. tests/cluster measures the actual lag under
load (figures in deploy/RUNBOOK.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store.database import create_engine

DEFAULT_MAX_LAG_SECONDS = 5.0

LAG_QUERY = text(
    """
    SELECT pg_is_in_recovery() AS in_recovery,
           (SELECT status FROM pg_stat_wal_receiver) AS receiver,
           CASE WHEN NOT pg_is_in_recovery() THEN 0.0
                WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
                ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()),
                              'Infinity'::float8)
           END::float8 AS lag_seconds,
           coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)
               ::bigint AS replay_backlog_bytes
    """
)


class ReplicaTooStale(Exception):
    """The replica is further behind than the configured bound, or not streaming."""


class ReplicaLag:
    def __init__(
        self, in_recovery: bool, receiver: str | None, lag_seconds: float, backlog: int
    ) -> None:
        self.in_recovery = in_recovery
        self.receiver = receiver
        self.lag_seconds = lag_seconds
        self.replay_backlog_bytes = backlog

    def __repr__(self) -> str:
        return (
            f"ReplicaLag(in_recovery={self.in_recovery}, receiver={self.receiver!r}, "
            f"lag_seconds={self.lag_seconds:.3f}, backlog={self.replay_backlog_bytes})"
        )


async def replica_lag(conn: AsyncConnection) -> ReplicaLag:
    row = (await conn.execute(LAG_QUERY)).one()
    return ReplicaLag(
        bool(row.in_recovery), row.receiver, float(row.lag_seconds), int(row.replay_backlog_bytes)
    )


async def check_replica(conn: AsyncConnection, max_lag_seconds: float) -> ReplicaLag:
    """Raise :class:`ReplicaTooStale` unless reads on ``conn`` are within the bound.
    On a primary (not in recovery) this always passes."""
    lag = await replica_lag(conn)
    if not lag.in_recovery:
        return lag
    if lag.receiver != "streaming":
        raise ReplicaTooStale(f"replica is not streaming from the primary ({lag.receiver})")
    if lag.lag_seconds > max_lag_seconds:
        raise ReplicaTooStale(
            f"replica is {lag.lag_seconds:.1f} s behind (bound {max_lag_seconds:.1f} s)"
        )
    return lag


def replica_settings(settings: Any) -> tuple[str | None, float]:
    """(replica URL or None, bound) from the settings; tolerant of settings that do not
    (yet) have the fields ``database_replica_url`` / ``replica_max_lag_seconds``."""
    url = getattr(settings, "database_replica_url", None)
    bound = getattr(settings, "replica_max_lag_seconds", DEFAULT_MAX_LAG_SECONDS)
    return url, float(bound)


def read_engine(settings: Any, *, pool_size: int = 5) -> AsyncEngine:
    """An engine for read-model queries: the replica when ``DATABASE_REPLICA_URL`` is set,
    else the primary. Callers run :func:`check_replica` on a connection (cheap: one row of
    built-in functions) and fall back to the primary on :class:`ReplicaTooStale`."""
    url, _ = replica_settings(settings)
    if url is None:
        url = settings.database_url
    assert url is not None, "no database URL"
    return create_engine(url, pool_size=pool_size)
