"""The database engine and the Alembic upgrade, in one place."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def async_url(url: str) -> str:
    """Accept a plain ``postgresql://`` URL (as users write it) and use asyncpg."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: with asyncpg it is BEGIN + a query + ROLLBACK on every checkout, three
        # round trips, and a request checks out several times (the benchmark's profile). A
        # connection that died is invalidated on its first error and replaced.
        pool_pre_ping=False,
        pool_recycle=1800,
    )


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (synchronous: run before the service starts)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(url))
    command.upgrade(config, revision)
