"""The event store on a real PostgreSQL: concurrency, idempotency, append-only."""

from __future__ import annotations

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import ConcurrencyConflict, DuplicateEventId
from tests.integration.helpers import new_event


@pytest.fixture
async def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def count_events(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT count(*) FROM events")))


async def test_append_assigns_versions_and_positions(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        first = await eventstore.append(
            conn,
            stream_type="doctor",
            stream_id="d-1",
            expected_version=0,
            events=[new_event(n=1), new_event(n=2)],
        )
    async with engine.begin() as conn:
        second = await eventstore.append(
            conn,
            stream_type="doctor",
            stream_id="d-1",
            expected_version=2,
            events=[new_event(n=3)],
        )
    assert [e.version for e in first + second] == [1, 2, 3]
    positions = [e.position for e in first + second]
    assert positions == sorted(positions) and len(set(positions)) == 3
    async with engine.connect() as conn:
        loaded = await eventstore.load_stream(conn, "d-1")
    assert [msgspec.json.decode(e.data)["n"] for e in loaded] == [1, 2, 3]


async def test_stale_expected_version_is_a_conflict_and_stores_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await eventstore.append(
            conn,
            stream_type="doctor",
            stream_id="d-2",
            expected_version=0,
            events=[new_event()],
        )
    with pytest.raises(ConcurrencyConflict) as caught:
        async with engine.begin() as conn:
            await eventstore.append(
                conn,
                stream_type="doctor",
                stream_id="d-2",
                expected_version=0,
                events=[new_event(), new_event()],
            )
    assert caught.value.expected == 0
    assert await count_events(engine) == 1


async def test_concurrent_writers_on_one_stream_one_wins(engine) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    async def write() -> str:
        try:
            async with engine.begin() as conn:
                await eventstore.append(
                    conn,
                    stream_type="doctor",
                    stream_id="d-3",
                    expected_version=0,
                    events=[new_event()],
                )
            return "ok"
        except ConcurrencyConflict:
            return "conflict"

    results = await asyncio.gather(*(write() for _ in range(8)))
    assert sorted(results) == ["conflict"] * 7 + ["ok"]
    assert await count_events(engine) == 1


async def test_reused_event_id_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    event = new_event()
    async with engine.begin() as conn:
        await eventstore.append(
            conn, stream_type="doctor", stream_id="d-4", expected_version=0, events=[event]
        )
    with pytest.raises(DuplicateEventId):
        async with engine.begin() as conn:
            await eventstore.append(
                conn, stream_type="doctor", stream_id="d-5", expected_version=0, events=[event]
            )
    assert await count_events(engine) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET type = 'rewritten'",
        "DELETE FROM events",
        "TRUNCATE events",
    ],
)
async def test_database_refuses_to_rewrite_history(engine, statement: str) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await eventstore.append(
            conn,
            stream_type="doctor",
            stream_id="d-6",
            expected_version=0,
            events=[new_event()],
        )
    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    async with engine.connect() as conn:
        assert await conn.scalar(text("SELECT type FROM events")) == "test.happened"
    assert await count_events(engine) == 1


@pytest.mark.parametrize(
    ("stream_type", "stream_id", "event_type"),
    [
        ("load", "load-1", "test.happened"),  # the cluster test once appended this
        ("doctor", "d.1", "test.happened"),  # a dot would split the subject
        ("doctor", "d-9", "not a type"),
    ],
)
async def test_unpublishable_event_is_refused_at_append_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    engine, stream_type: str, stream_id: str, event_type: str
) -> None:
    with pytest.raises(eventstore.UnpublishableEvent):
        async with engine.begin() as conn:
            await eventstore.append(
                conn,
                stream_type="doctor",
                stream_id="d-ok",
                expected_version=0,
                events=[new_event()],
            )
            await eventstore.append(
                conn,
                stream_type=stream_type,
                stream_id=stream_id,
                expected_version=0,
                events=[new_event(event_type)],
            )
    assert await count_events(engine) == 0  # the whole transaction, the good event too
