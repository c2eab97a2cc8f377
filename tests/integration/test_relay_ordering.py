"""The relay on real PostgreSQL and NATS: with many writers committing concurrently it
delivers every event exactly once, in global order and in order per stream (the
sequence-gap trap of DESIGN.md)."""

from __future__ import annotations

import asyncio
import random

import msgspec
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text

from services import feed
from services.relay.relay import Relay
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import ConcurrencyConflict, RecordedEvent
from tests.integration.helpers import new_event

WRITERS = 8
EVENTS_PER_WRITER = 700  # 5,600 in all
STREAMS = 64


async def read_whole_stream(nats_url: str, stream_name: str, expected: int) -> list[RecordedEvent]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            feed.STREAM_SUBJECTS,
            durable="verifier",
            stream=stream_name,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
        )
        received: list[RecordedEvent] = []
        while True:
            try:
                msgs = await sub.fetch(1000, timeout=1.0)
            except TimeoutError:  # nats-py raises asyncio's own when the fetch deadline passes
                break
            received.extend(feed.decode(m.data) for m in msgs)
        return received
    finally:
        await nc.close()


async def writer(engine, seed: int) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    written = 0
    while written < EVENTS_PER_WRITER:
        stream_id = f"doctor-{rng.randrange(STREAMS)}"
        count = min(rng.randint(1, 3), EVENTS_PER_WRITER - written)
        try:
            async with engine.begin() as conn:
                version = await eventstore.stream_version(conn, stream_id)
                await eventstore.append(
                    conn,
                    stream_type="doctor",
                    stream_id=stream_id,
                    expected_version=version,
                    events=[new_event(writer=seed, n=written + i) for i in range(count)],
                )
            written += count
        except ConcurrencyConflict:
            await asyncio.sleep(0)
    return written


@pytest.mark.timeout(300)
async def test_concurrent_appenders_relayed_exactly_once_in_order(
    database_url: str, nats_server_url: str, stream_name: str
) -> None:
    engine = create_engine(database_url, pool_size=WRITERS + 4)
    relay = Relay(
        engine, nats_server_url, stream_name=stream_name, batch_size=200, idle_poll_seconds=0.01
    )
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    try:
        totals = await asyncio.gather(*(writer(engine, seed) for seed in range(WRITERS)))
        assert sum(totals) == WRITERS * EVENTS_PER_WRITER
        async with engine.connect() as conn:
            head = await eventstore.head_position(conn)
            stored = (
                await conn.execute(
                    text("SELECT position, stream_id, version FROM events ORDER BY position")
                )
            ).all()
        for _ in range(600):
            if relay.position >= head:
                break
            await asyncio.sleep(0.1)
        assert relay.position == head
    finally:
        stop.set()
        await relay_task
        await engine.dispose()

    received = await read_whole_stream(nats_server_url, stream_name, len(stored))
    positions = [e.position for e in received]
    assert len(received) == len(stored) == WRITERS * EVENTS_PER_WRITER
    assert positions == sorted(positions), "JetStream order is not global order"
    assert positions == [row.position for row in stored], "an event was skipped or duplicated"
    per_stream: dict[str, list[int]] = {}
    for event in received:
        per_stream.setdefault(event.stream_id, []).append(event.version)
    for stream_id, versions in per_stream.items():
        assert versions == list(range(1, len(versions) + 1)), stream_id
    assert all(msgspec.json.decode(e.data)["type"] == "test.happened" for e in received)


async def test_a_late_commit_cannot_be_overtaken(database_url: str) -> None:
    """The mechanism itself: while one append is uncommitted, the next waits for it, so a
    reader can never see a higher position before a lower one commits."""
    engine = create_engine(database_url)
    try:
        slow = await engine.connect()
        slow_tx = await slow.begin()
        first = await eventstore.append(
            slow, stream_type="doctor", stream_id="a", expected_version=0, events=[new_event()]
        )

        async def second_writer() -> int:
            async with engine.begin() as conn:
                recorded = await eventstore.append(
                    conn,
                    stream_type="doctor",
                    stream_id="b",
                    expected_version=0,
                    events=[new_event()],
                )
            return recorded[0].position

        task = asyncio.create_task(second_writer())
        await asyncio.sleep(0.5)
        assert not task.done(), "the second append committed while the first was open"
        async with engine.connect() as reader:
            assert await eventstore.read_all(reader, after_position=0, limit=10) == []
        await slow_tx.commit()
        await slow.close()
        second = await asyncio.wait_for(task, 10)
        assert first[0].position < second
    finally:
        await engine.dispose()
