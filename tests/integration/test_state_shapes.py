"""A read-model row written in an older shape of the state (before ``doctor-3`` indexed
assessments by objective) is refolded from the store: the API's read folds the whole stream,
and the projector rewrites the row in the new shape at the stream's next event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.doctor.state import DoctorState
from events import ObjectiveAssessed
from events.base import Event
from services import aggregates
from services.aggregates import DOCTOR
from services.application.streams import run_command
from services.read_models import states
from services.store import eventstore
from services.store.database import create_engine

DOCTOR_ID = "5b0e8f3e-0000-4000-8000-000000000002"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def assessed(objective_id: str) -> ObjectiveAssessed:
    return ObjectiveAssessed(
        doctor_id=DOCTOR_ID,
        objective_id=objective_id,
        catalogue_version="2020-03",
        org_number="974589095",
        assessor_hpr="1000010",
        assessor_role="veileder",
        outcome="achieved",
        assessed_on=date(2024, 1, 1),
    )


async def test_an_old_shape_row_is_refolded(engine: AsyncEngine) -> None:
    for objective_id in ("KLS-001", "KLS-002", "KLS-001"):

        def decide(state: DoctorState, version: int, o: str = objective_id) -> list[Event]:
            return [assessed(o)]

        async with engine.begin() as conn:
            await run_command(
                conn, DOCTOR, DOCTOR_ID, expected_version=None, decide=decide, metadata={}
            )
    async with engine.begin() as conn:
        events = await eventstore.load_stream(conn, DOCTOR_ID)
        full = DOCTOR.fold(DoctorState(), [aggregates.decode(e) for e in events])
        # doctor-2's shape: assessments as one list.
        old = msgspec.msgpack.encode(
            {"doctor_id": DOCTOR_ID, "registered": True, "assessments": [{"objective_id": "x"}]}
        )
        await conn.execute(
            text(
                "INSERT INTO doctor_states (key, stream_id, version, state, last_position) "
                "VALUES (:s, :s, 2, :st, :p)"
            ),
            {"s": DOCTOR_ID, "st": old, "p": events[1].position},
        )
        assert await states.read(conn, states.DOCTORS, DOCTOR_ID) == (full, 3)
        assert await states.read_many(conn, states.DOCTORS, [DOCTOR_ID]) == [(full, 3)]
        await states.apply_batch(conn, [events[2]], "")
        row = (
            await conn.execute(
                text("SELECT version, state FROM doctor_states WHERE stream_id = :s"),
                {"s": DOCTOR_ID},
            )
        ).one()
    assert row.version == 3
    assert msgspec.msgpack.decode(bytes(row.state), type=DoctorState) == full
