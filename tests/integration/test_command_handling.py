"""Running commands against real PostgreSQL: snapshots, expected versions, idempotency."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import msgspec
import pytest
from sqlalchemy import text

from domain.doctor.state import DoctorState
from events import ObjectiveAssessed, SupervisionHoursLogged
from events.base import Event
from services import aggregates
from services.aggregates import DOCTOR
from services.application.streams import (
    Aggregate,
    CommandRejected,
    IdempotentRequest,
    load,
    once,
    run_command,
)
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import ConcurrencyConflict
from services.store.idempotency import IdempotencyKeyReused, StoredResponse


# A trivial aggregate over a real event type (the registry holds only the domain's events):
# a counter of logged supervision hours.
def Counted(by: int) -> SupervisionHoursLogged:
    return SupervisionHoursLogged(
        doctor_id="c", org_number="974589095", month="2025-01", hours=float(by)
    )


class Counter(msgspec.Struct, frozen=True):
    total: int = 0


def evolve(state: Counter, event: Event) -> Counter:
    match event:
        case SupervisionHoursLogged(hours=hours):
            return Counter(state.total + int(hours))
    return state


COUNTER = Aggregate("doctor", Counter, Counter, evolve, snapshot_schema="counter-v1")


def add(by: int):  # type: ignore[no-untyped-def]
    def decide(state: Counter, version: int) -> list[Event] | str:
        if state.total + by > 100:
            return "over the limit"
        return [Counted(by=by)]

    return decide


@pytest.fixture
async def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def count(engine, table: str) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")))


@pytest.fixture
def snapshot_every(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_to(n: int) -> None:
        monkeypatch.setattr(aggregates, "snapshot_every", n)

    return set_to


async def snapshot_version(engine, stream_id: str) -> int | None:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT version FROM stream_snapshots WHERE stream_id = :s"), {"s": stream_id}
        )
    return None if found is None else int(found)


async def test_state_comes_from_snapshot_plus_tail(engine, snapshot_every) -> None:  # type: ignore[no-untyped-def]
    snapshot_every(1)
    for by in (1, 2, 3):
        async with engine.begin() as conn:
            await run_command(
                conn, COUNTER, "c-1", expected_version=None, decide=add(by), metadata={}
            )
    async with engine.connect() as conn:
        state, version = await load(conn, COUNTER, "c-1")
        snap = await conn.scalar(text("SELECT version FROM stream_snapshots WHERE stream_id='c-1'"))
    assert (state, version, snap) == (Counter(6), 3, 3)


async def test_a_snapshot_is_written_every_n_events(engine, snapshot_every) -> None:  # type: ignore[no-untyped-def]
    snapshot_every(3)
    seen = []
    for _ in range(7):
        async with engine.begin() as conn:
            await run_command(
                conn, COUNTER, "c-n", expected_version=None, decide=add(1), metadata={}
            )
        seen.append(await snapshot_version(engine, "c-n"))
    assert seen == [None, None, 3, 3, 3, 6, 6]

    def two(state: Counter, version: int) -> list[Event]:
        return [Counted(by=1), Counted(by=1)]

    async with engine.begin() as conn:  # 7 + 2 = 9: three since the snapshot at 6
        await run_command(conn, COUNTER, "c-n", expected_version=None, decide=two, metadata={})
    assert await snapshot_version(engine, "c-n") == 9
    async with engine.connect() as conn:
        assert await load(conn, COUNTER, "c-n") == (Counter(9), 9)


async def test_a_doctor_from_snapshot_and_tail_equals_the_full_fold(engine, snapshot_every) -> None:  # type: ignore[no-untyped-def]
    snapshot_every(5)
    doctor = "5b0e8f3e-0000-4000-8000-000000000001"
    for n in range(12):

        def assess(state: DoctorState, version: int, n: int = n) -> list[Event]:
            return [
                ObjectiveAssessed(
                    doctor_id=doctor,
                    objective_id=f"KLS-00{n % 3}",
                    catalogue_version="2020-03",
                    org_number="974589095",
                    assessor_hpr="1000010",
                    assessor_role="veileder",
                    outcome="achieved" if n % 2 else "not_yet",
                    assessed_on=date(2024, 1, 1) + timedelta(days=n // 2),
                )
            ]

        async with engine.begin() as conn:
            await run_command(
                conn, DOCTOR, doctor, expected_version=None, decide=assess, metadata={}
            )
    assert await snapshot_version(engine, doctor) == 10
    async with engine.connect() as conn:
        loaded = await load(conn, DOCTOR, doctor)
        every = await eventstore.load_stream(conn, doctor)
    full = DOCTOR.fold(DoctorState(), [aggregates.decode(e) for e in every])
    assert loaded == (full, 12)
    assert full.assessment_count == 12 and len(full.assessments["KLS-000"]) == 4


async def test_stale_snapshot_schema_is_ignored(engine) -> None:  # type: ignore[no-untyped-def]
    async with engine.begin() as conn:
        await run_command(conn, COUNTER, "c-2", expected_version=0, decide=add(5), metadata={})
    changed = Aggregate("doctor", Counter, Counter, evolve, snapshot_schema="counter-v2")
    async with engine.connect() as conn:
        assert await load(conn, changed, "c-2") == (Counter(5), 1)


async def test_rejection_and_stale_version_store_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandRejected):
        async with engine.begin() as conn:
            await run_command(
                conn, COUNTER, "c-3", expected_version=0, decide=add(101), metadata={}
            )
    async with engine.begin() as conn:
        await run_command(conn, COUNTER, "c-3", expected_version=0, decide=add(1), metadata={})
    with pytest.raises(ConcurrencyConflict):
        async with engine.begin() as conn:
            await run_command(conn, COUNTER, "c-3", expected_version=0, decide=add(1), metadata={})
    assert await count(engine, "events") == 1


async def test_idempotent_retries_store_once(engine) -> None:  # type: ignore[no-untyped-def]
    request = IdempotentRequest("client-a", "key-1", b"fingerprint-1")

    async def work(conn) -> StoredResponse:  # type: ignore[no-untyped-def]
        outcome = await run_command(
            conn, COUNTER, "c-4", expected_version=None, decide=add(1), metadata={}
        )
        return StoredResponse(201, msgspec.json.encode({"version": outcome.version}), {})

    first = await once(engine, request, work)
    again = await asyncio.gather(*(once(engine, request, work) for _ in range(5)))
    assert all(r == first for r in again)
    assert await count(engine, "events") == 1
    with pytest.raises(IdempotencyKeyReused):
        await once(engine, IdempotentRequest("client-a", "key-1", b"other body"), work)
    # The same key from another client is another request.
    await once(engine, IdempotentRequest("client-b", "key-1", b"fingerprint-1"), work)
    assert await count(engine, "events") == 2


async def test_concurrent_first_attempts_with_one_key_store_once(engine) -> None:  # type: ignore[no-untyped-def]
    request = IdempotentRequest("client-a", "key-2", b"fp")

    async def work(conn) -> StoredResponse:  # type: ignore[no-untyped-def]
        outcome = await run_command(
            conn, COUNTER, "c-5", expected_version=None, decide=add(1), metadata={}
        )
        return StoredResponse(201, msgspec.json.encode({"version": outcome.version}), {})

    responses = await asyncio.gather(*(once(engine, request, work) for _ in range(6)))
    assert len({r.body for r in responses}) == 1
    assert await count(engine, "events") == 1
