"""The sample catalogue and demo data for the embedded default (idempotent: run it as often as
you like). Everything goes through the same domain decisions as the API; the actor is
recorded as ``seed``.

The demo is a LIS1 doctor halfway through: a hospital year at Demo sykehus HF (with sick
leave), the municipal half-year at Demo kommune just begun, a veileder, and part of the
hospital objectives assessed and approved (one by a delegate).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain import catalogue as catalogue_domain
from domain import organisation as org_domain
from domain.calendar_days import add_months
from domain.catalogues import sample_versions
from domain.doctor import commands as cmd
from domain.doctor.decide import decide as decide_doctor
from events.vocabulary import AbsenceKind, Arena
from services import aggregates as context_loaders
from services.aggregates import (
    CATALOGUE,
    DOCTOR,
    ORGANISATION,
    catalogue_stream,
    organisation_stream,
)
from services.application.streams import load, run_command
from services.bootstrap import engine_for
from services.config import Settings
from services.logging import get_logger
from services.store import horizon, people

log = get_logger("seed")

HOSPITAL = "974589095"
MUNICIPALITY = "974749025"
HOSPITAL_LEADER = "9000001"
HOSPITAL_DELEGATE = "9000002"
MUNICIPAL_LEADER = "9000003"
VEILEDER = "9000010"
DEMO_DOCTOR_HPR = "9100001"
DEMO_DOCTOR_ID = "0d3a6c1e-5e1b-4a8e-9a55-000000000001"
METADATA: dict[str, Any] = {"actor": {"kind": "seed"}, "request_id": None}


async def seed_catalogue(conn: AsyncConnection) -> None:
    state, _ = await load(conn, CATALOGUE, catalogue_stream())
    for command in sample_versions():
        if state.get(command.version) is not None:
            continue

        def publish(s: Any, _v: int, c: Any = command) -> Any:
            return catalogue_domain.decide(c, s)

        outcome = await run_command(
            conn,
            CATALOGUE,
            catalogue_stream(),
            expected_version=None,
            decide=publish,
            metadata=METADATA,
        )
        state = outcome.state


async def org(conn: AsyncConnection, command: org_domain.OrganisationCommand) -> None:
    await run_command(
        conn,
        ORGANISATION,
        organisation_stream(command.org_number),
        expected_version=None,
        decide=lambda s, _v: org_domain.decide(command, s),
        metadata=METADATA,
    )


async def seed_organisations(conn: AsyncConnection) -> None:
    state, _ = await load(conn, ORGANISATION, organisation_stream(HOSPITAL))
    if state.registered:
        return
    on = date(2020, 1, 1)
    commands: list[org_domain.OrganisationCommand] = [
        org_domain.RegisterOrganisation(
            org_number=HOSPITAL, name="Demo sykehus HF", kind="hospital_trust", registered_on=on
        ),
        org_domain.AppointLeader(org_number=HOSPITAL, hpr_number=HOSPITAL_LEADER, valid_from=on),
        org_domain.GrantDelegation(
            org_number=HOSPITAL,
            delegation_id="demo-delegation",
            leader_hpr=HOSPITAL_LEADER,
            delegate_hpr=HOSPITAL_DELEGATE,
            valid_from=on,
        ),
        org_domain.RegisterOrganisation(
            org_number=MUNICIPALITY, name="Demo kommune", kind="municipality", registered_on=on
        ),
        org_domain.AppointLeader(
            org_number=MUNICIPALITY, hpr_number=MUNICIPAL_LEADER, valid_from=on
        ),
    ]
    for command in commands:
        await org(conn, command)


async def doctor(conn: AsyncConnection, command: Any, *, approvals: bool = False) -> None:
    catalogue = await context_loaders.current_catalogue(conn)
    organisations = await context_loaders.organisations(conn, {HOSPITAL, MUNICIPALITY})
    await run_command(
        conn,
        DOCTOR,
        DEMO_DOCTOR_ID,
        expected_version=None,
        decide=lambda s, _v: decide_doctor(
            command, s, catalogue=catalogue, organisations=organisations if approvals else None
        ),
        metadata=METADATA,
    )


def _hospital_year(start: date, end: date) -> list[cmd.DoctorCommand]:
    """Registration and a hospital year with sick leave, vacation, confirmation, veileder."""
    d = DEMO_DOCTOR_ID
    return [
        cmd.RegisterDoctor(doctor_id=d, authorised_on=start, registered_on=start),
        _lis1_period("demo-hospital", HOSPITAL, "hospital", start, end),
        _absence("demo-sick", "sick_leave", start + timedelta(days=60), days=20),
        _absence("demo-vacation", "vacation", start + timedelta(days=200), days=25),
        cmd.IssueServiceConfirmation(
            doctor_id=d,
            period_id="demo-hospital",
            org_number=HOSPITAL,
            issued_on=end,
            signed_by_hpr=HOSPITAL_LEADER,
        ),
        cmd.AssignSupervisor(
            doctor_id=d,
            org_number=HOSPITAL,
            hpr_number=VEILEDER,
            role="veileder",
            valid_from=start,
            part=1,
        ),
    ]


def _lis1_period(
    period_id: str, org_number: str, arena: Arena, start: date, end: date
) -> cmd.RecordServicePeriod:
    """The demo doctor's full-time LIS1 service (part 1) at one employer."""
    return cmd.RecordServicePeriod(
        doctor_id=DEMO_DOCTOR_ID,
        period_id=period_id,
        org_number=org_number,
        part=1,
        arena=arena,
        position="LIS1",
        fte_percent=100,
        start=start,
        end=end,
    )


def _absence(absence_id: str, kind: AbsenceKind, start: date, *, days: int) -> cmd.LogAbsence:
    """``days`` days of absence from the hospital year."""
    return cmd.LogAbsence(
        doctor_id=DEMO_DOCTOR_ID,
        period_id="demo-hospital",
        absence_id=absence_id,
        kind=kind,
        start=start,
        end=start + timedelta(days=days - 1),
    )


def _objectives(hospital_start: date) -> list[cmd.DoctorCommand]:
    """30 objectives assessed as achieved, the first 24 approved (every sixth by the
    delegate)."""
    out: list[cmd.DoctorCommand] = []
    for n in range(1, 31):
        objective = f"KLS-{n:03d}"
        assessed_on = hospital_start + timedelta(days=100 + 7 * n)
        out.append(
            cmd.AssessObjective(
                doctor_id=DEMO_DOCTOR_ID,
                objective_id=objective,
                org_number=HOSPITAL,
                assessor_hpr=VEILEDER,
                assessor_role="veileder",
                outcome="achieved",
                assessed_on=assessed_on,
            )
        )
        if n <= 24:
            out.append(
                cmd.ApproveObjective(
                    doctor_id=DEMO_DOCTOR_ID,
                    objective_id=objective,
                    org_number=HOSPITAL,
                    approver_hpr=HOSPITAL_DELEGATE if n % 6 == 0 else HOSPITAL_LEADER,
                    approved_on=assessed_on + timedelta(days=3),
                )
            )
    return out


async def seed_demo_doctor(conn: AsyncConnection, today: date) -> None:
    exists = await conn.scalar(
        text("SELECT 1 FROM people WHERE doctor_id = :d"), {"d": DEMO_DOCTOR_ID}
    )
    if exists:
        return
    await horizon.join_feed(conn)  # people rows come before the events (services.store.horizon)
    await people.add_person(conn, DEMO_DOCTOR_ID, DEMO_DOCTOR_HPR, "13097248022", "Demo Doktorsen")
    for org_number in (HOSPITAL, MUNICIPALITY):
        await people.remember_employer(conn, DEMO_DOCTOR_ID, org_number)
    # A hospital year that ended about four months ago, then the municipal half-year.
    hospital_start = add_months(date(today.year, today.month, 1), -16)
    hospital_end = add_months(hospital_start, 12) - timedelta(days=1)
    municipal_start = hospital_end + timedelta(days=1)
    municipal_end = add_months(municipal_start, 6) - timedelta(days=1)
    municipal = _lis1_period(
        "demo-municipal", MUNICIPALITY, "municipal", municipal_start, municipal_end
    )
    commands = [
        *_hospital_year(hospital_start, hospital_end),
        municipal,
        *_objectives(hospital_start),
    ]
    for command in commands:
        await doctor(conn, command, approvals=isinstance(command, cmd.ApproveObjective))


async def seed_all(engine: AsyncEngine, today: date) -> None:
    async with engine.begin() as conn:
        await seed_catalogue(conn)
    async with engine.begin() as conn:
        await seed_organisations(conn)
    async with engine.begin() as conn:
        await seed_demo_doctor(conn, today)


async def seed(settings: Settings) -> None:
    from services.clock import today

    assert settings.database_url is not None
    engine = engine_for(settings)
    try:
        await seed_all(engine, today())
        log.info("seed.done", demo_doctor_hpr=DEMO_DOCTOR_HPR, doctor_id=DEMO_DOCTOR_ID)
    finally:
        await engine.dispose()
