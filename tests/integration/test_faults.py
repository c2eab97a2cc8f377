"""Faults mid-stream: the relay and a projector killed with SIGKILL and restarted, and NATS
stopped and restarted, while writers keep appending. Afterwards the read model equals a
from-scratch rebuild, and every event was applied exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from services.embedded import EmbeddedNats
from services.projector.rebuild import rebuild
from services.projector.stream_summary import StreamSummary
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import START, ConcurrencyConflict, Cursor
from tests.integration.helpers import checkpoint_of, feed_head, new_event

TOTAL_EVENTS = 3000
STREAMS = 40


def start(role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "services.cli", role]
    if role == "projector":
        args.append("stream_summary")
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


async def write_steadily(engine, total: int, done: asyncio.Event) -> None:  # type: ignore[no-untyped-def]
    written = 0
    while written < total:
        stream_id = f"doctor-{written % STREAMS}"
        try:
            async with engine.begin() as conn:
                version = await eventstore.stream_version(conn, stream_id)
                await eventstore.append(
                    conn,
                    stream_type="doctor",
                    stream_id=stream_id,
                    expected_version=version,
                    events=[new_event(n=written)],
                )
            written += 1
        except ConcurrencyConflict:
            continue
        if written % 50 == 0:
            await asyncio.sleep(0.02)  # about 2,000 events/s at most: keeps the faults mid-stream
    done.set()


async def checkpoint(engine, name: str) -> Cursor:  # type: ignore[no-untyped-def]
    return await checkpoint_of(engine, name)


async def table_rows(engine, table: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT * FROM {table} ORDER BY stream_id"))
        return [tuple(row) for row in rows]


@pytest.mark.timeout(300)
async def test_kills_and_nats_restart_lose_and_duplicate_nothing(
    database_url: str, own_nats: EmbeddedNats, stream_name: str
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": own_nats.url,
        "KOMPETANSE_STREAM": stream_name,
        "LOG_LEVEL": "warning",
    }
    engine = create_engine(database_url)
    relay = start("relay", env)
    projector = start("projector", env)
    done = asyncio.Event()
    writing = asyncio.create_task(write_steadily(engine, TOTAL_EVENTS, done))
    faults: list[str] = []
    try:

        async def head() -> int:  # events stored so far
            async with engine.connect() as conn:
                return await eventstore.events_after(conn, START)

        async def wait_for_head(at_least: int) -> None:
            while await head() < at_least and not done.is_set():
                await asyncio.sleep(0.05)

        await wait_for_head(400)
        kill(relay)
        faults.append(f"relay SIGKILL at head {await head()}")
        await asyncio.sleep(0.3)
        relay = start("relay", env)

        await wait_for_head(1000)
        kill(projector)
        faults.append(f"projector SIGKILL at head {await head()}")
        await asyncio.sleep(0.3)
        projector = start("projector", env)

        await wait_for_head(1600)
        await asyncio.to_thread(own_nats.stop)
        faults.append(f"NATS stopped at head {await head()}")
        await asyncio.sleep(1.5)
        await asyncio.to_thread(own_nats.start)
        faults.append("NATS restarted")

        await wait_for_head(2200)
        kill(projector)
        kill(relay)
        faults.append(f"relay and projector SIGKILL together at head {await head()}")
        relay = start("relay", env)
        projector = start("projector", env)

        await writing
        final = await feed_head(engine)
        deadline = time.monotonic() + 90
        while await checkpoint(engine, "stream_summary") < final:
            assert time.monotonic() < deadline, (
                f"projection stuck at {await checkpoint(engine, 'stream_summary')} of {final}"
            )
            await asyncio.sleep(0.2)
    finally:
        for process in (relay, projector):
            if process.poll() is None:
                process.terminate()
                process.wait(10)
        if not writing.done():
            writing.cancel()

    live = await table_rows(engine, "stream_summaries")
    # Exactly once: each stream's event count equals its version and its events in the store.
    async with engine.connect() as conn:
        truth: dict[str, int] = dict(
            (await conn.execute(text("SELECT stream_id, count(*) FROM events GROUP BY 1"))).all()
        )
    assert sum(truth.values()) == TOTAL_EVENTS
    assert {row[0]: row[3] for row in live} == truth
    assert all(row[2] == row[3] for row in live), "an event was applied twice"

    await rebuild(engine, StreamSummary())
    rebuilt = await table_rows(engine, "stream_summaries")
    assert rebuilt == live
    await engine.dispose()
    print("faults injected:", *faults, sep="\n  ")
