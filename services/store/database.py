"""The database engine and the Alembic upgrade, in one place."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def async_url(url: str) -> str:
    """Accept a plain ``postgresql://`` URL (as users write it) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


# A pooled connection unused this long is pinged before it is handed out (see below).
PING_AFTER_IDLE_SECONDS = 5.0


def create_engine(
    url: str, *, pool_size: int = 10, ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS
) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping of every checkout: with asyncpg it is BEGIN + a query + ROLLBACK, three
        # round trips, and a request checks out several times (the benchmark's profile).
        pool_pre_ping=False,
        pool_recycle=1800,
    )
    _ping_idle_connections(engine, ping_after_idle_seconds)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a connection before use only if it sat in the pool ``idle_seconds`` or more.

    After the server restarted (a failover, a restart for an upgrade) every pooled
    connection is dead; SQLAlchemy invalidates the whole pool on the first error, but that
    first request of each process fails (a 500 on a worker that was quiet meanwhile). A busy
    connection is not pinged, so the cost under load stays nil; a dead idle one is replaced
    before the request sees it."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _note_idle(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            # The pool discards this connection and hands out a fresh one.
            raise DisconnectionError("an idle pooled connection no longer answers") from error


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (synchronous: run before the service starts)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(url))
    command.upgrade(config, revision)
