"""A write's state comes from the state this process loaded last time plus the events
after it (services.state_cache, issue 14 item 7: write cost flat), and never from a kept
state the store no longer backs. Real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.doctor.state import DoctorState
from events import ObjectiveAssessed
from events.base import Event
from services import aggregates
from services.aggregates import DOCTOR
from services.application.streams import run_command
from services.state_cache import KeptState, StateCache
from services.store import eventstore
from services.store.database import create_engine


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateCache]:
    """A cache of the test's own, and a snapshot every 4 events."""
    cache = StateCache(16)
    monkeypatch.setattr(aggregates, "recent_states", cache)
    monkeypatch.setattr(aggregates, "snapshot_every", 4)
    yield cache


def assessed(doctor_id: str, objective_id: str) -> ObjectiveAssessed:
    return ObjectiveAssessed(
        doctor_id=doctor_id,
        objective_id=objective_id,
        catalogue_version="2020-03",
        org_number="974589095",
        assessor_hpr="1000010",
        assessor_role="veileder",
        outcome="achieved",
        assessed_on=date(2024, 1, 1),
    )


async def write(engine: AsyncEngine, doctor_id: str, objective_id: str) -> None:
    def decide(state: DoctorState, version: int) -> list[Event]:
        return [assessed(doctor_id, objective_id)]

    async with engine.begin() as conn:
        await run_command(
            conn, DOCTOR, doctor_id, expected_version=None, decide=decide, metadata={}
        )


async def full_fold(conn: AsyncConnection, doctor_id: str) -> tuple[DoctorState, int]:
    events = await eventstore.load_stream(conn, doctor_id)
    return DOCTOR.fold(DoctorState(), [aggregates.decode(e) for e in events]), len(events)


def key(engine: AsyncEngine, doctor_id: str) -> tuple[str, str, str]:
    store = engine.url.render_as_string(hide_password=True)
    return (store, DOCTOR.snapshot_schema, doctor_id)


async def test_a_kept_state_and_the_events_after_it_equal_the_full_fold(
    engine: AsyncEngine, kept: StateCache
) -> None:
    doctor_id = str(uuid.uuid4())
    for n in range(11):
        await write(engine, doctor_id, f"KLS-{n % 3:03}")
    assert kept.get(key(engine, doctor_id)) is not None
    # The snapshot (at 8) is spoiled: only a load that does not decode it can succeed.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE stream_snapshots SET state = '\\xc1'::bytea WHERE stream_id = :s"),
            {"s": doctor_id},
        )
        state, version, since_snapshot = await aggregates.load_since_snapshot(
            conn, DOCTOR, doctor_id
        )
        assert (state, version) == await full_fold(conn, doctor_id)
    assert since_snapshot == 3  # counted from the stored snapshot, so snapshots stay every 4


async def test_snapshots_are_still_written_every_n_events_with_kept_states(
    engine: AsyncEngine, kept: StateCache
) -> None:
    doctor_id = str(uuid.uuid4())
    seen = []
    for n in range(9):
        await write(engine, doctor_id, f"KLS-{n:03}")
        async with engine.connect() as conn:
            seen.append(
                await conn.scalar(
                    text("SELECT version FROM stream_snapshots WHERE stream_id = :s"),
                    {"s": doctor_id},
                )
            )
    assert seen == [None, None, None, 4, 4, 4, 4, 8, 8]


async def test_a_kept_state_the_store_does_not_hold_is_refolded_from_the_store(
    engine: AsyncEngine, kept: StateCache
) -> None:
    doctor_id = str(uuid.uuid4())
    for n in range(3):
        await write(engine, doctor_id, f"KLS-{n:03}")
    real = kept.get(key(engine, doctor_id))
    assert real is not None
    # As after a restore, or a database recreated at the same address: the kept state
    # names an event this store does not have at that version.
    kept.keep(key(engine, doctor_id), KeptState(real.version, uuid.uuid4(), DoctorState()))
    async with engine.connect() as conn:
        state, version, _ = await aggregates.load_since_snapshot(conn, DOCTOR, doctor_id)
        assert (state, version) == await full_fold(conn, doctor_id)
    assert version == 3 and len(state.assessments) == 3


async def test_a_rolled_back_write_is_not_kept(engine: AsyncEngine, kept: StateCache) -> None:
    doctor_id = str(uuid.uuid4())
    await write(engine, doctor_id, "KLS-001")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with engine.begin() as conn:

            def decide(state: DoctorState, version: int) -> list[Event]:
                return [assessed(doctor_id, "KLS-002")]

            await run_command(
                conn, DOCTOR, doctor_id, expected_version=None, decide=decide, metadata={}
            )
            # Loaded again inside the transaction that appended: its own event is seen.
            _, version, _ = await aggregates.load_since_snapshot(conn, DOCTOR, doctor_id)
            assert version == 2
            raise Abort
    async with engine.connect() as conn:
        state, version, _ = await aggregates.load_since_snapshot(conn, DOCTOR, doctor_id)
        assert (state, version) == await full_fold(conn, doctor_id)
    assert version == 1 and set(state.assessments) == {"KLS-001"}


def test_the_cache_keeps_the_most_recently_used_streams_up_to_its_size() -> None:
    cache = StateCache(2)
    for name in ("a", "b"):
        cache.keep(("db", "s", name), KeptState(1, uuid.uuid4(), name))
    cache.get(("db", "s", "a"))
    cache.keep(("db", "s", "c"), KeptState(1, uuid.uuid4(), "c"))
    assert [cache.get(("db", "s", n)) is not None for n in "abc"] == [True, False, True]
    cache.resize(0)
    cache.keep(("db", "s", "d"), KeptState(1, uuid.uuid4(), "d"))
    assert len(cache) == 0
