"""The relay on real PostgreSQL and NATS: with many writers committing concurrently it
delivers every event exactly once, in feed order and in order per stream (the sequence-gap
trap of DESIGN.md); a transaction held open holds the feed back and is never skipped."""

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
from services.store.eventstore import START, ConcurrencyConflict, FeedOrderConflict, RecordedEvent
from services.store.horizon import FeedJoinedLate, join_feed
from tests.integration.helpers import new_event

WRITERS = 64
EVENTS_PER_WRITER = 90  # 5,760 in all
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


async def writer(engine, seed: int, events: int = EVENTS_PER_WRITER) -> int:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    written = 0
    while written < events:
        stream_id = f"doctor-{rng.randrange(STREAMS)}"
        count = min(rng.randint(1, 3), events - written)
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


async def relay_until_head(engine, relay: Relay) -> None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        head = await eventstore.head(conn)
    for _ in range(600):
        if relay.cursor >= head:
            break
        await asyncio.sleep(0.1)
    assert relay.cursor == head


async def stored_in_feed_order(engine) -> list[tuple[int, int, str, int]]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT transaction_id, position, stream_id, version FROM events "
                "ORDER BY transaction_id, position"
            )
        )
        return [tuple(row) for row in rows]


def assert_delivered_once_in_order(received: list[RecordedEvent], stored: list[tuple]) -> None:  # type: ignore[type-arg]
    cursors = [e.cursor for e in received]
    assert cursors == sorted(cursors), "JetStream order is not feed order"
    assert [(c.transaction_id, c.position) for c in cursors] == [r[:2] for r in stored], (
        "an event was skipped or duplicated"
    )
    per_stream: dict[str, list[int]] = {}
    for event in received:
        per_stream.setdefault(event.stream_id, []).append(event.version)
    for stream_id, versions in per_stream.items():
        assert versions == list(range(1, len(versions) + 1)), stream_id


@pytest.mark.timeout(300)
async def test_64_concurrent_appenders_relayed_exactly_once_in_order(
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
        await relay_until_head(engine, relay)
        stored = await stored_in_feed_order(engine)
    finally:
        stop.set()
        await relay_task
        await engine.dispose()

    received = await read_whole_stream(nats_server_url, stream_name, len(stored))
    assert len(received) == len(stored) == WRITERS * EVENTS_PER_WRITER
    assert_delivered_once_in_order(received, stored)
    assert all(msgspec.json.decode(e.data)["type"] == "test.happened" for e in received)


@pytest.mark.timeout(300)
async def test_a_transaction_held_open_holds_the_relay_back_and_is_never_skipped(
    database_url: str, nats_server_url: str, stream_name: str
) -> None:
    """64 writers commit while one transaction, which appended first, stays open: the relay
    publishes nothing after it until it commits, then everything, each event once."""
    engine = create_engine(database_url, pool_size=WRITERS + 4)
    relay = Relay(
        engine, nats_server_url, stream_name=stream_name, batch_size=200, idle_poll_seconds=0.01
    )
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))
    slow = await engine.connect()
    try:
        slow_tx = await slow.begin()
        held = await eventstore.append(
            slow, stream_type="doctor", stream_id="held", expected_version=0, events=[new_event()]
        )
        await asyncio.gather(*(writer(engine, seed, events=10) for seed in range(WRITERS)))
        await asyncio.sleep(1.0)  # the relay polls every 10 ms: ample time to skip, if it could
        assert relay.cursor < held[0].cursor, "the relay went past a transaction in flight"
        async with engine.connect() as reader:
            assert await eventstore.read_feed(reader, after=START, limit=10) == []
        await slow_tx.commit()
        await relay_until_head(engine, relay)
        stored = await stored_in_feed_order(engine)
    finally:
        await slow.close()
        stop.set()
        await relay_task
        await engine.dispose()

    received = await read_whole_stream(nats_server_url, stream_name, len(stored))
    assert len(received) == len(stored) == WRITERS * 10 + 1
    assert received[0].event_id == held[0].event_id
    assert_delivered_once_in_order(received, stored)


async def test_a_late_commit_cannot_be_overtaken(database_url: str) -> None:
    """The mechanism itself: a later transaction commits without waiting for an earlier one
    still open (no global lock), but no reader sees it before the earlier one ends, and
    then both in feed order."""
    engine = create_engine(database_url)
    try:
        slow = await engine.connect()
        slow_tx = await slow.begin()
        first = await eventstore.append(
            slow, stream_type="doctor", stream_id="a", expected_version=0, events=[new_event()]
        )
        async with engine.begin() as conn:
            second = await eventstore.append(
                conn, stream_type="doctor", stream_id="b", expected_version=0, events=[new_event()]
            )
        async with engine.connect() as reader:
            assert await eventstore.read_feed(reader, after=START, limit=10) == []
            assert await eventstore.head(reader) == START
        await slow_tx.commit()
        await slow.close()
        async with engine.connect() as reader:
            feed_now = await eventstore.read_feed(reader, after=START, limit=10)
        assert [e.event_id for e in feed_now] == [first[0].event_id, second[0].event_id]
        assert first[0].cursor < second[0].cursor
    finally:
        await engine.dispose()


async def test_an_append_from_an_older_transaction_is_refused_then_succeeds_anew(
    database_url: str,
) -> None:
    """Per-stream feed order is version order: a transaction that began writing before the
    stream's last append committed would put its event before that one in the feed, so the
    store refuses it (nothing inserted) and the same append in a new transaction succeeds."""
    engine = create_engine(database_url)
    try:
        older = await engine.connect()
        older_tx = await older.begin()
        await eventstore.append(
            older, stream_type="doctor", stream_id="x", expected_version=0, events=[new_event()]
        )  # this transaction now has its id
        async with engine.begin() as conn:
            await eventstore.append(
                conn, stream_type="doctor", stream_id="s", expected_version=0, events=[new_event()]
            )
        with pytest.raises(FeedOrderConflict):
            await eventstore.append(
                older, stream_type="doctor", stream_id="s", expected_version=1, events=[new_event()]
            )
        await older_tx.rollback()
        await older.close()
        async with engine.begin() as conn:
            await eventstore.append(
                conn, stream_type="doctor", stream_id="s", expected_version=1, events=[new_event()]
            )
        async with engine.connect() as reader:
            stream = await eventstore.read_feed(reader, after=START, limit=10)
        assert [(e.stream_id, e.version) for e in stream] == [("s", 1), ("s", 2)]
    finally:
        await engine.dispose()


async def test_a_transaction_that_appends_nothing_does_not_hold_the_feed_back(
    database_url: str,
) -> None:
    """Only appending transactions count for the horizon: a projector's or an access log's
    write held open does not stop the feed (with the plain xmin line it would)."""
    engine = create_engine(database_url)
    try:
        other = await engine.connect()
        other_tx = await other.begin()
        await other.execute(text("SELECT pg_current_xact_id()"))  # has an id, appends nothing
        async with engine.begin() as conn:
            appended = await eventstore.append(
                conn, stream_type="doctor", stream_id="a", expected_version=0, events=[new_event()]
            )
        async with engine.connect() as reader:
            assert [
                e.event_id for e in await eventstore.read_feed(reader, after=START, limit=10)
            ] == [appended[0].event_id]
        await other_tx.rollback()
        await other.close()
    finally:
        await engine.dispose()


async def test_an_append_after_other_writes_in_its_transaction_is_refused(
    database_url: str,
) -> None:
    """A transaction that wrote before it joined the feed could have been passed by a reader
    already: its append is refused and nothing is stored."""
    engine = create_engine(database_url)
    try:
        with pytest.raises(FeedJoinedLate):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT pg_current_xact_id()"))
                await eventstore.append(
                    conn,
                    stream_type="doctor",
                    stream_id="a",
                    expected_version=0,
                    events=[new_event()],
                )
        async with engine.begin() as conn:
            await join_feed(conn)
            await conn.execute(text("SELECT pg_current_xact_id()"))
            await eventstore.append(
                conn, stream_type="doctor", stream_id="a", expected_version=0, events=[new_event()]
            )
        async with engine.connect() as reader:
            assert [
                e.version for e in await eventstore.read_feed(reader, after=START, limit=10)
            ] == [1]
    finally:
        await engine.dispose()


async def test_a_manual_insert_joins_the_feed_as_well(database_url: str) -> None:
    """An INSERT that bypasses the store (older code, an operator) joins the feed through the
    table's trigger: held open, it holds the feed back like any append, so no reader can
    pass it and skip it when it commits."""
    engine = create_engine(database_url)
    try:
        manual = await engine.connect()
        manual_tx = await manual.begin()
        await manual.execute(
            text(
                "INSERT INTO events (event_id, stream_type, stream_id, version, type, "
                "schema_version, data, metadata) VALUES (gen_random_uuid(), 'doctor', 'm', 1, "
                "'test.happened', 1, '{}', '{}')"
            )
        )
        async with engine.begin() as conn:
            await eventstore.append(
                conn, stream_type="doctor", stream_id="a", expected_version=0, events=[new_event()]
            )
        async with engine.connect() as reader:
            assert await eventstore.read_feed(reader, after=START, limit=10) == []
        await manual_tx.commit()
        await manual.close()
        async with engine.connect() as reader:
            streams = [
                e.stream_id for e in await eventstore.read_feed(reader, after=START, limit=10)
            ]
        assert streams == ["m", "a"]
    finally:
        await engine.dispose()
