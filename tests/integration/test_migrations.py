"""Migration 0012 (issue 11: DDL in the migrations only) on a database whose projectors
created ``part1_completions`` and ``stream_summaries`` themselves, as they did before it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.store.database import upgrade

# What the two projections ran on start before 0012 (copied from their old ``ddl``).
DDL_BEFORE_0012 = [
    "CREATE TABLE IF NOT EXISTS part1_completions ("
    " doctor_id text PRIMARY KEY, approved_on date NOT NULL, position bigint NOT NULL)",
    """
    CREATE TABLE IF NOT EXISTS stream_summaries (
        stream_id     text PRIMARY KEY,
        stream_type   text   NOT NULL,
        version       integer NOT NULL,
        event_count   integer NOT NULL,
        last_type     text   NOT NULL,
        last_position bigint NOT NULL
    )
    """,
]

COLUMNS = """
    SELECT table_name, column_name, data_type, is_nullable
    FROM information_schema.columns
    WHERE table_name IN ('part1_completions', 'stream_summaries')
    ORDER BY table_name, ordinal_position
"""


@pytest.fixture
async def empty_database(postgres_server_url: str) -> AsyncIterator[str]:
    name = f"migrate_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(postgres_server_url)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    yield f"{postgres_server_url.rpartition('/')[0]}/{name}"
    conn = await asyncpg.connect(postgres_server_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def test_0012_keeps_the_tables_a_projector_created_before_it(
    empty_database: str, database_url: str
) -> None:
    await asyncio.to_thread(upgrade, empty_database, "0011")
    conn = await asyncpg.connect(empty_database)
    try:
        for statement in DDL_BEFORE_0012:
            await conn.execute(statement)
        await conn.execute("INSERT INTO part1_completions VALUES ('d-1', '2026-01-05', 42)")
    finally:
        await conn.close()

    await asyncio.to_thread(upgrade, empty_database)

    conn = await asyncpg.connect(empty_database)
    fresh = await asyncpg.connect(database_url)  # migrated from nothing to head
    try:
        kept = await conn.fetch("SELECT doctor_id, position FROM part1_completions")
        assert [tuple(r) for r in kept] == [("d-1", 42)]
        upgraded_shape = [tuple(r) for r in await conn.fetch(COLUMNS)]
        fresh_shape = [tuple(r) for r in await fresh.fetch(COLUMNS)]
        assert upgraded_shape == fresh_shape
        assert len(fresh_shape) == 9  # both tables exist without any projector having run
    finally:
        await conn.close()
        await fresh.close()
