"""Decisions on a doctor's record: what is rejected (cannot be true) and with which field and
rule."""

from __future__ import annotations

from datetime import date

import pytest

from domain.doctor.commands import (
    AssignSupervisor,
    CorrectServicePeriod,
    GrantException,
    IssueServiceConfirmation,
    LogAbsence,
    LogSupervisionHours,
    RecordServicePeriod,
    RegisterDoctor,
    RetractAbsence,
    RetractServicePeriod,
    RevokeApproval,
)
from domain.doctor.decide import decide
from domain.doctor.state import DoctorState
from events.doctor import AbsenceLogged, ServicePeriodRecorded
from tests.unit.builders import DOCTOR, HOSPITAL, MUNICIPALITY, World, d


def absence(
    period_id: str,
    absence_id: str,
    start: str,
    end: str,
    kind: str = "sick_leave",
    percent: int = 100,
) -> LogAbsence:
    return LogAbsence(
        doctor_id=DOCTOR,
        period_id=period_id,
        absence_id=absence_id,
        kind=kind,  # type: ignore[arg-type]
        start=d(start),
        end=d(end),
        percent=percent,
    )


def record(
    period_id: str, start: str, end: str | None, fte: int = 100, **kw: object
) -> RecordServicePeriod:
    fields: dict[str, object] = {
        "org_number": HOSPITAL,
        "part": 1,
        "arena": "hospital",
        "position": "LIS1",
    }
    fields.update(kw)
    return RecordServicePeriod(
        doctor_id=DOCTOR,
        period_id=period_id,
        fte_percent=fte,
        start=d(start),
        end=d(end) if end else None,
        **fields,  # type: ignore[arg-type]
    )


def test_commands_on_an_unregistered_doctor_are_rejected() -> None:
    r = decide(record("p1", "2025-01-01", None), DoctorState())
    assert not isinstance(r, list) and r.field == "doctor_id" and r.code == "unknown_reference"


def test_register_twice_is_a_duplicate() -> None:
    w = World()
    r = w.rejected(
        RegisterDoctor(
            doctor_id=DOCTOR, authorised_on=date(2020, 1, 1), registered_on=date(2020, 1, 1)
        )
    )
    assert r.code == "duplicate"


def test_r1_service_period_recorded_with_its_fields() -> None:
    w = World()
    [e] = w.ok(record("p1", "2025-01-01", "2025-12-31"))
    assert isinstance(e, ServicePeriodRecorded) and e.fte_percent == 100 and e.arena == "hospital"


def test_end_before_start_rejected_naming_the_field() -> None:
    r = World().rejected(record("p1", "2025-02-01", "2025-01-31"))
    assert (r.code, r.field) == ("invalid_value", "end")


def test_r1_part_1_needs_an_arena() -> None:
    r = World().rejected(record("p1", "2025-01-01", None, arena=None))
    assert (r.field, r.rule) == ("arena", "R1")


@pytest.mark.parametrize("fte", [0, 101, -5])
def test_r10_fte_outside_1_to_100_rejected(fte: int) -> None:
    r = World().rejected(record("p1", "2025-01-01", None, fte=fte))
    assert (r.field, r.rule) == ("fte_percent", "R10")


def test_r10_overlapping_periods_past_100_percent_rejected() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31", fte=60))
    r = w.rejected(record("p2", "2025-06-01", "2025-06-30", fte=50))
    assert (r.code, r.field, r.rule) == ("rule_violation", "fte_percent", "R10")


def test_r10_two_50_percent_positions_at_once_accepted() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31", fte=50))
    w.ok(record("p2", "2025-01-01", None, fte=50, org_number=MUNICIPALITY, arena="municipal"))
    assert len(w.state.periods) == 2


def test_r10_open_ended_period_blocks_a_later_full_time_period() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", None, fte=100))
    r = w.rejected(record("p2", "2030-01-01", "2030-02-01", fte=10))
    assert r.rule == "R10"


def test_r10_correction_is_checked_without_its_own_old_version() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31", fte=100))
    w.ok(
        CorrectServicePeriod(
            doctor_id=DOCTOR,
            period_id="p1",
            org_number=HOSPITAL,
            part=1,
            arena="hospital",
            position="LIS1",
            fte_percent=80,
            start=d("2025-01-01"),
            end=d("2025-12-31"),
        )
    )
    assert w.state.periods["p1"].fte_percent == 80


def test_duplicate_period_id_rejected() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-06-30"))
    assert w.rejected(record("p1", "2026-01-01", None)).code == "duplicate"


def test_r15_self_created_post_only_in_part_1() -> None:
    r = World().rejected(
        record("p1", "2025-01-01", None, part=3, arena=None, self_created_post=True)
    )
    assert (r.field, r.rule) == ("self_created_post", "R15")


def test_r8_absence_outside_its_period_rejected() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-06-30"))
    assert w.rejected(absence("p1", "a1", "2024-12-31", "2025-01-05")).field == "start"
    r = w.rejected(absence("p1", "a1", "2025-06-20", "2025-07-01"))
    assert (r.field, r.rule) == ("end", "R8")


def test_r8_absence_in_an_open_ended_period_accepted() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", None))
    [e] = w.ok(absence("p1", "a1", "2026-01-01", "2026-01-10"))
    assert isinstance(e, AbsenceLogged)


def test_r8_absence_on_unknown_period_rejected() -> None:
    r = World().rejected(absence("nope", "a1", "2025-01-01", "2025-01-02"))
    assert (r.code, r.field) == ("unknown_reference", "period_id")


def test_r8_overlapping_absences_past_100_percent_rejected_graded_accepted() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31"))
    w.ok(absence("p1", "a1", "2025-03-01", "2025-03-31", percent=50))
    w.ok(absence("p1", "a2", "2025-03-10", "2025-03-20", kind="vacation", percent=50))
    assert w.rejected(absence("p1", "a3", "2025-03-15", "2025-03-15", percent=10)).rule == "R8"


def test_r8_correction_may_not_strand_an_absence() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31"))
    w.ok(absence("p1", "a1", "2025-11-01", "2025-11-30"))
    r = w.rejected(
        CorrectServicePeriod(
            doctor_id=DOCTOR,
            period_id="p1",
            org_number=HOSPITAL,
            part=1,
            arena="hospital",
            position="LIS1",
            fte_percent=100,
            start=d("2025-01-01"),
            end=d("2025-10-31"),
        )
    )
    assert (r.field, r.rule) == ("end", "R8")


def test_retractions() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31"))
    w.ok(absence("p1", "a1", "2025-11-01", "2025-11-30"))
    w.ok(RetractAbsence(doctor_id=DOCTOR, absence_id="a1"))
    assert w.state.absences == {}
    assert w.rejected(RetractAbsence(doctor_id=DOCTOR, absence_id="a1")).field == "absence_id"
    w.ok(absence("p1", "a2", "2025-11-01", "2025-11-30"))
    w.ok(RetractServicePeriod(doctor_id=DOCTOR, period_id="p1"))
    assert w.state.periods == {} and w.state.absences == {}


def test_r7_confirmation_only_by_the_employer_of_the_period() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31"))
    r = w.rejected(
        IssueServiceConfirmation(
            doctor_id=DOCTOR,
            period_id="p1",
            org_number=MUNICIPALITY,
            issued_on=d("2026-01-05"),
            signed_by_hpr="1000001",
        )
    )
    assert (r.field, r.rule) == ("org_number", "R7")
    w.ok(
        IssueServiceConfirmation(
            doctor_id=DOCTOR,
            period_id="p1",
            org_number=HOSPITAL,
            issued_on=d("2026-01-05"),
            signed_by_hpr="1000001",
        )
    )
    assert "p1" in w.state.confirmations


def test_r12_supervision_hours_need_service_that_month_and_a_valid_month() -> None:
    w = World()
    w.ok(record("p1", "2025-01-01", "2025-12-31", part=3, arena=None, specialty="allmennmedisin"))
    w.ok(LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2025-03", hours=4))
    assert (
        w.rejected(
            LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2026-03", hours=4)
        ).rule
        == "R12"
    )
    assert (
        w.rejected(
            LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2025-13", hours=4)
        ).field
        == "month"
    )
    assert (
        w.rejected(
            LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2025-04", hours=-1)
        ).field
        == "hours"
    )


def test_r13_supervisor_assignment_is_recorded_not_rejected() -> None:
    w = World()
    w.ok(
        AssignSupervisor(
            doctor_id=DOCTOR,
            org_number=HOSPITAL,
            hpr_number="2000009",
            role="veileder",
            valid_from=d("2025-01-01"),
            part=3,
            specialty="indremedisin",
        )
    )
    assert len(w.state.supervisors) == 1


def test_r13_dispensation_names_the_veileder() -> None:
    r = World().rejected(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="veileder_dispensation",
            granted_by="helsedirektoratet",
            granted_on=d("2025-01-01"),
        )
    )
    assert (r.field, r.rule) == ("supervisor_hpr", "R13")


def test_r2_exception_for_unknown_period_rejected() -> None:
    r = World().rejected(
        GrantException(
            doctor_id=DOCTOR,
            exception_id="x1",
            kind="sequence_part1",
            granted_by="helsedirektoratet",
            granted_on=d("2025-01-01"),
            period_id="nope",
        )
    )
    assert r.field == "period_id"


def test_r5_revoke_requires_an_approval_by_the_same_institution() -> None:
    w = World()
    r = w.rejected(
        RevokeApproval(
            doctor_id=DOCTOR,
            objective_id="KLS-001",
            org_number=HOSPITAL,
            revoked_on=d("2025-01-01"),
            reason="feil",
        )
    )
    assert r.field == "objective_id"
