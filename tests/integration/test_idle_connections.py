"""A pooled connection that died while idle (the server restarted, a failover) is replaced
before a request uses it: the first request after the restart does not fail."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text

from services.store.database import create_engine


async def _kill(database_url: str, pid: int) -> bool:
    """What a server restart does to a pooled connection: it is cut."""
    conn = await asyncpg.connect(database_url)
    try:
        return bool(await conn.fetchval("SELECT pg_terminate_backend($1)", pid))
    finally:
        await conn.close()


async def _pooled_engine(database_url: str, ping_after_idle_seconds: float):  # type: ignore[no-untyped-def]
    """An engine with one connection in its pool, and that connection's server pid."""
    engine = create_engine(
        database_url, pool_size=2, ping_after_idle_seconds=ping_after_idle_seconds
    )
    async with engine.connect() as conn:
        pid = int(await conn.scalar(text("SELECT pg_backend_pid()")))
    return engine, pid


async def test_a_connection_that_died_while_idle_is_replaced_before_use(database_url: str) -> None:
    engine, pid = await _pooled_engine(database_url, ping_after_idle_seconds=0.2)
    try:
        assert await _kill(database_url, pid)
        await asyncio.sleep(0.3)  # idle past the threshold
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
            assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid  # a fresh one
    finally:
        await engine.dispose()


async def test_without_the_idle_ping_the_first_use_fails(database_url: str) -> None:
    """The same cut with a threshold never reached: the dead connection is handed out (the
    behaviour the ping exists for; it proves the test above can fail)."""
    engine, pid = await _pooled_engine(database_url, ping_after_idle_seconds=3600)
    try:
        assert await _kill(database_url, pid)
        await asyncio.sleep(0.3)
        failed = False
        try:
            async with engine.connect() as conn:
                await conn.scalar(text("SELECT 1"))
        except Exception:
            failed = True
        assert failed
    finally:
        await engine.dispose()
