"""The feed never stops for good (issue #10), on real PostgreSQL and NATS: a poison event
is dead-lettered and stepped over, the relay's lock cannot leak, a frozen NATS is survived
and seen by ``/readyz``, and a projection steps over an event it cannot apply."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator

import msgspec
import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services import feed
from services.embedded import EmbeddedNats
from services.feed_status import lags
from services.projector.rebuild import rebuild
from services.projector.runtime import Projector, ensure_tables
from services.projector.stream_summary import StreamSummary
from services.relay.relay import RELAY_LOCK_KEY, Relay
from services.store import dead_letters, eventstore
from services.store.database import create_engine
from services.store.eventstore import START, Cursor, RecordedEvent
from tests.integration.helpers import checkpoint_of, feed_head, new_event, relay_checkpoint


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def append(
    engine: AsyncEngine, stream_id: str, n: int = 1, type_: str = "test.happened"
) -> None:
    async with engine.begin() as conn:
        await eventstore.append(
            conn,
            stream_type="doctor",
            stream_id=stream_id,
            expected_version=None,
            events=[new_event(type_, n=i) for i in range(n)],
        )


async def plant_poison(engine: AsyncEngine, stream_type: str = "load") -> int:
    """What older code or a manual insert could leave: bypasses the store's check."""
    async with engine.begin() as conn:
        return int(
            await conn.scalar(
                text(
                    "INSERT INTO events (event_id, stream_type, stream_id, version, type, "
                    "schema_version, data, metadata) VALUES (:e, :st, 'load-1', 1, "
                    "'test.happened', 1, '{}', '{}') RETURNING position"
                ),
                {"e": uuid.uuid4(), "st": stream_type},
            )
        )


async def head(engine: AsyncEngine) -> Cursor:
    return await feed_head(engine)


async def until(condition, seconds: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not await condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s: {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def running(*workers) -> AsyncIterator[asyncio.Event]:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in workers]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)


async def stream_messages(nats_url: str, stream: str, subject: str) -> list[RecordedEvent]:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(
            subject,
            stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
        )
        out: list[RecordedEvent] = []
        while True:
            try:
                msgs = await sub.fetch(500, timeout=1.0)
            except TimeoutError:  # nats-py raises asyncio's own when the fetch deadline passes
                return out
            out += [feed.decode(m.data) for m in msgs]
    finally:
        await nc.close()


async def test_a_planted_poison_event_is_dead_lettered_and_the_relay_goes_on(
    engine: AsyncEngine, nats_server_url: str, stream_name: str
) -> None:
    await append(engine, "before", 3)
    poison = await plant_poison(engine)
    await append(engine, "after", 3)
    relay = Relay(engine, nats_server_url, stream_name=stream_name)
    projector = Projector(engine, nats_server_url, StreamSummary(), stream_name=stream_name)
    async with running(relay, projector):
        await append(engine, "later", 2)
        final = await head(engine)
        await until(lambda: _projected(engine, final), 30, "relayed and projected past the poison")

    published = await stream_messages(nats_server_url, stream_name, feed.STREAM_SUBJECTS)
    assert poison not in [e.position for e in published]
    assert len(published) == 8
    dead = await stream_messages(
        nats_server_url,
        feed.dead_letter_stream_name(stream_name),
        feed.dead_letter_subject(stream_name),
    )
    assert [e.position for e in dead] == [poison]
    async with engine.begin() as conn:
        letters = await dead_letters.listed(conn)
        assert [(d.consumer, d.position, d.stream_type) for d in letters] == [
            ("relay", poison, "load")
        ]
        assert "unknown stream type 'load'" in letters[0].reason
        assert (await lags(engine)).open_dead_letters == 1
        assert await dead_letters.acknowledge(conn, None, by="test") == 1
    assert (await lags(engine)).open_dead_letters == 0
    # The projection stepped over it too, and equals a rebuild from the store.
    live = await _rows(engine)
    assert "load-1" not in [r[0] for r in live]
    await rebuild(engine, StreamSummary())
    assert await _rows(engine) == live


async def _projected(engine: AsyncEngine, cursor: Cursor) -> bool:
    return await checkpoint_of(engine, "stream_summary") >= cursor


async def _all_caught_up(engine: AsyncEngine, cursor: Cursor) -> bool:
    return await _projected(engine, cursor) and (await lags(engine)).worst() == 0


async def _rows(engine: AsyncEngine) -> list[tuple[object, ...]]:
    async with engine.connect() as conn:
        return [
            tuple(r) for r in await conn.execute(text("SELECT * FROM stream_summaries ORDER BY 1"))
        ]


async def test_readyz_reports_open_dead_letters(engine: AsyncEngine, api) -> None:  # type: ignore[no-untyped-def]
    await plant_poison(engine)
    async with engine.begin() as conn:
        batch = await eventstore.read_feed(conn, after=START, limit=10)
        await dead_letters.record(conn, "relay", batch[0], "planted")
    body = (await api.get("/readyz")).json()
    assert body["checks"]["dead_letters"] == 1


async def test_killing_the_relay_lock_connection_resumes_publishing_within_5_s(
    engine: AsyncEngine, nats_server_url: str, stream_name: str
) -> None:
    relay = Relay(engine, nats_server_url, stream_name=stream_name)
    async with running(relay):
        await append(engine, "d-1", 5)
        first = await head(engine)
        await until(lambda: _relayed(engine, first), 20, "first events relayed")
        async with engine.begin() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND objid = :k AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"k": RELAY_LOCK_KEY},
            )
        assert killed, "no backend held the relay lock"
        await append(engine, "d-1", 5)
        second = await head(engine)
        resumed = await until(lambda: _relayed(engine, second), 5, "publishing resumed")
        # The lock is held again, by a live connection (not leaked to a pool).
        async with engine.connect() as conn:
            holders = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND objid = :k"
                ),
                {"k": RELAY_LOCK_KEY},
            )
        assert holders == 1
    print(f"publishing resumed {resumed:.2f} s after the lock connection was killed")


async def _relayed(engine: AsyncEngine, cursor: Cursor) -> bool:
    return await relay_checkpoint(engine) >= cursor


async def test_nats_frozen_20_s_under_writes_lag_returns_to_zero_and_readyz_follows(  # type: ignore[no-untyped-def]
    engine: AsyncEngine,
    own_nats: EmbeddedNats,
    stream_name: str,
    api_settings,
    issuer,
) -> None:
    import msgspec.structs
    from litestar.testing import AsyncTestClient

    from services.api.app import create_app

    settings = msgspec.structs.replace(api_settings, nats_url=own_nats.url)
    relay = Relay(engine, own_nats.url, stream_name=stream_name)
    projector = Projector(engine, own_nats.url, StreamSummary(), stream_name=stream_name)
    writing = asyncio.Event()

    async def write_steadily() -> None:
        n = 0
        while not writing.is_set():
            await append(engine, f"d-{n % 7}")
            n += 1
            await asyncio.sleep(0.02)

    async with AsyncTestClient(app=create_app(settings)) as client, running(relay, projector):
        writer = asyncio.create_task(write_steadily())
        await until(lambda: _ready(client), 30, "ready before the freeze")
        assert own_nats.process is not None
        os.kill(own_nats.process.pid, signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            not_ready_after = await until(
                lambda: _not_ready(client), 5, "/readyz 503 after the freeze"
            )
            await asyncio.sleep(3)
            during = await head(engine)  # written while NATS is frozen
            followed = await until(
                lambda: _projected(engine, during), 5, "read model follows the store meanwhile"
            )
            await asyncio.sleep(20 - (time.monotonic() - frozen))
        finally:
            os.kill(own_nats.process.pid, signal.SIGCONT)
        thawed = time.monotonic()
        writing.set()
        await writer
        final = await head(engine)
        # The projector follows the store while the feed is silent, so it may reach the head
        # before the relay has published the backlog: both must be at 0 within the bound.
        caught_up = await until(
            lambda: _all_caught_up(engine, final), 15, "lag back to 0 after SIGCONT"
        )
        await until(lambda: _ready(client), 10, "/readyz 200 after the thaw")
        print(
            f"/readyz 503 {not_ready_after:.1f} s after the freeze; read model followed the store "
            f"within {followed:.1f} s while frozen; lag 0 "
            f"{caught_up:.1f} s after SIGCONT; ready again {time.monotonic() - thawed:.1f} s after"
        )
    # Every event exactly once in the read model.
    async with engine.connect() as conn:
        truth: dict[str, int] = dict(
            (await conn.execute(text("SELECT stream_id, count(*) FROM events GROUP BY 1"))).all()
        )
    assert {r[0]: r[3] for r in await _rows(engine)} == truth


async def test_a_projector_follows_the_store_while_the_feed_is_silent(
    engine: AsyncEngine, nats_server_url: str, stream_name: str
) -> None:
    """No relay at all (or a stream leader being elected): the read model still reaches the
    store's head, from the store, and the feed's later deliveries are skipped, not applied
    twice."""
    projector = Projector(engine, nats_server_url, StreamSummary(), stream_name=stream_name)
    async with running(projector):
        await append(engine, "d-1", 3)
        await append(engine, "d-2", 2)
        final = await head(engine)
        await until(lambda: _projected(engine, final), 10, "projected with no relay running")
        async with running(Relay(engine, nats_server_url, stream_name=stream_name)):
            await until(lambda: _relayed(engine, final), 10, "the relay publishes them after all")
            await append(engine, "d-1", 1)
            later = await head(engine)
            await until(lambda: _projected(engine, later), 10, "and the feed goes on")
    assert {r[0]: r[3] for r in await _rows(engine)} == {"d-1": 4, "d-2": 2}


async def test_a_projector_waiting_for_nats_outlives_a_database_that_refuses_it(
    engine: AsyncEngine, database_url: str, own_nats: EmbeddedNats, stream_name: str
) -> None:
    """While NATS is away the projector follows the store; when the database refuses it too
    (restarting, or not accepting connections) it keeps waiting, and once both are back it
    goes on (an error of the database while it waited once ended it for good)."""
    projector = Projector(engine, own_nats.url, StreamSummary(), stream_name=stream_name)
    dbname = database_url.rsplit("/", 1)[1]
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", pool_size=1)
    try:
        async with running(projector):
            await append(engine, "d-1", 2)
            first = await head(engine)
            await until(lambda: _projected(engine, first), 10, "projected before the faults")
            await asyncio.to_thread(own_nats.stop)
            async with admin.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS false"))
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"
                    ),
                    {"d": dbname},
                )
                await asyncio.sleep(3)  # the projector's waiting loop meets the refusals
                await conn.execute(text(f"ALTER DATABASE {dbname} ALLOW_CONNECTIONS true"))
            await engine.dispose()  # the test's own pooled connections were terminated too
            await append(engine, "d-2", 1)
            second = await head(engine)
            await until(lambda: _projected(engine, second), 15, "from the store, NATS still away")
            await asyncio.to_thread(own_nats.start)
            await append(engine, "d-1", 1)
            third = await head(engine)
            await until(lambda: _projected(engine, third), 15, "and on once NATS is back")
    finally:
        await admin.dispose()
    assert {r[0]: r[3] for r in await _rows(engine)} == {"d-1": 3, "d-2": 1}


async def _ready(client) -> bool:  # type: ignore[no-untyped-def]
    return bool((await client.get("/readyz")).status_code == 200)


async def _not_ready(client) -> bool:  # type: ignore[no-untyped-def]
    return bool((await client.get("/readyz")).status_code == 503)


class BreaksOn(StreamSummary):
    """StreamSummary with a bug: it cannot apply events of type ``test.unreadable``."""

    async def apply(self, conn, event, suffix):  # type: ignore[no-untyped-def]
        if event.type == "test.unreadable":
            msgspec.json.decode(b"{", type=dict)  # what a payload it cannot read raises
        await super().apply(conn, event, suffix)

    async def apply_batch(self, conn, events, suffix):  # type: ignore[no-untyped-def]
        if any(event.type == "test.unreadable" for event in events):
            msgspec.json.decode(b"{", type=dict)
        await super().apply_batch(conn, events, suffix)


async def test_a_projection_steps_over_an_event_it_cannot_apply(
    engine: AsyncEngine, nats_server_url: str, stream_name: str
) -> None:
    await append(engine, "d-1", 2)
    await append(engine, "d-2", 1, type_="test.unreadable")
    await append(engine, "d-3", 2)
    final = await head(engine)
    relay = Relay(engine, nats_server_url, stream_name=stream_name)
    projection = BreaksOn()
    async with engine.begin() as conn:
        await ensure_tables(conn, projection)
    projector = Projector(engine, nats_server_url, projection, stream_name=stream_name)
    async with running(relay, projector):
        await until(lambda: _projected(engine, final), 30, "projected past the unreadable event")
    async with engine.connect() as conn:
        letters = await dead_letters.listed(conn)
    assert [(d.consumer, d.stream_id) for d in letters] == [("projection:stream_summary", "d-2")]
    assert "DecodeError" in letters[0].reason
    assert {r[0]: r[3] for r in await _rows(engine)} == {"d-1": 2, "d-3": 2}
