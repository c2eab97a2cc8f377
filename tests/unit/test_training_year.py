"""The training year (issue 15) in the domain: learning activities and their sign-off, the
activities an assessment cites, supervision meetings feeding R12 and group supervision shown
(R18). Each refusal names its field and stores nothing."""

from __future__ import annotations

import pytest

from domain.doctor.commands import (
    AssessObjective,
    AssignSupervisor,
    LogSupervisionHours,
    RecordEducationPlan,
    RecordLearningActivity,
    RecordSupervisionMeeting,
    SignOffLearningActivity,
)
from domain.doctor.training_records import plan_at, plan_version
from domain.progress import progress
from domain.rulesets import rule_set_in_force
from domain.supervision import supervision_report
from events.doctor import AssessmentEvidenceCited, EducationPlanRecorded, SupervisionMeetingHeld
from events.training import PlanPeriod
from tests.unit.builders import DOCTOR, HOSPITAL, LEADER_H, MUNICIPALITY, VEILEDER, World, d


def activity(
    activity_id: str = "a1", on: str = "2020-04-01", objectives: tuple[str, ...] = ("KLS-001",)
) -> RecordLearningActivity:
    return RecordLearningActivity(
        doctor_id=DOCTOR,
        activity_id=activity_id,
        kind="procedure",
        date=d(on),
        objective_ids=objectives,
        description="Pleuratapping",
        recorded_by="doctor",
    )


def sign_off(by: str, on: str = "2020-04-02", org: str = HOSPITAL) -> SignOffLearningActivity:
    return SignOffLearningActivity(
        doctor_id=DOCTOR, activity_id="a1", org_number=org, signed_by_hpr=by, signed_on=d(on)
    )


def world() -> World:
    w = World()
    w.period("p1", "2020-03-01", "2021-02-28")
    w.ok(
        AssignSupervisor(
            doctor_id=DOCTOR,
            org_number=HOSPITAL,
            hpr_number=VEILEDER,
            role="veileder",
            valid_from=d("2020-03-01"),
            part=1,
        )
    )
    return w


def test_an_activity_for_an_objective_outside_the_catalogue_is_refused() -> None:
    w = world()
    r = w.rejected(activity(objectives=("KLS-001", "NOPE-999")))
    assert (r.field, r.rule) == ("objective_ids", "R4") and "NOPE-999" in r.detail
    assert w.state.activities == {}


def test_an_activity_before_any_catalogue_is_in_force_is_refused() -> None:
    r = world().rejected(activity(on="2001-01-01"))
    assert r.field == "objective_ids"


def test_sign_off_by_the_veileder_or_the_leader_is_recorded() -> None:
    w = world()
    w.ok(activity())
    w.ok(sign_off(VEILEDER))
    signed = w.state.activities["a1"].sign_off
    assert signed is not None and signed.signed_by_hpr == VEILEDER
    assert w.rejected(sign_off(LEADER_H)).code == "duplicate"
    w2 = world()
    w2.ok(activity())
    w2.ok(sign_off(LEADER_H))


def test_sign_off_by_someone_with_no_role_there_is_refused() -> None:
    w = world()
    w.ok(activity())
    r = w.rejected(sign_off("1999999"))
    assert (r.field, r.rule) == ("signed_by_hpr", "R5")
    assert w.state.activities["a1"].sign_off is None


def test_sign_off_at_an_institution_where_the_doctor_never_served_is_refused() -> None:
    w = world()
    w.ok(activity())
    assert w.rejected(sign_off(VEILEDER, org=MUNICIPALITY)).field == "org_number"


def test_sign_off_before_the_activity_is_refused() -> None:
    w = world()
    w.ok(activity())
    r = w.rejected(sign_off(VEILEDER, on="2020-03-31"))
    assert r.field == "signed_on"


def assess(activity_ids: tuple[str, ...], on: str = "2020-04-10") -> AssessObjective:
    return AssessObjective(
        doctor_id=DOCTOR,
        objective_id="KLS-001",
        org_number=HOSPITAL,
        assessor_hpr=VEILEDER,
        assessor_role="veileder",
        outcome="achieved",
        assessed_on=d(on),
        activity_ids=activity_ids,
    )


def test_an_assessment_cites_its_activities_and_progress_shows_them() -> None:
    w = world()
    w.ok(activity())
    w.ok(sign_off(VEILEDER))
    events = w.ok(assess(("a1",)))
    assert isinstance(events[-1], AssessmentEvidenceCited) and events[-1].activity_ids == ("a1",)
    p = progress(w.state, w.catalogue, d("2020-05-01"))
    kls = next(o for part in p.parts for o in part.objectives if o.objective_id == "KLS-001")
    assert kls.cited_activity_ids == ("a1",)
    assert [(a.activity_id, a.signed_off, a.signed_by_hpr) for a in kls.activities] == [
        ("a1", True, VEILEDER)
    ]
    before = progress(w.state, w.catalogue, d("2020-04-01"))
    kls_then = next(o for pt in before.parts for o in pt.objectives if o.objective_id == "KLS-001")
    assert [a.signed_off for a in kls_then.activities] == [False]


@pytest.mark.parametrize(
    ("cited", "on"),
    [(("nope",), "2020-04-10"), (("a2",), "2020-04-10"), (("a1",), "2020-03-20")],
)
def test_citing_an_unknown_unrelated_or_later_activity_is_refused(
    cited: tuple[str, ...], on: str
) -> None:
    w = world()
    w.ok(activity())
    w.ok(activity("a2", objectives=("KLS-002",)))
    r = w.rejected(assess(cited, on))
    assert r.field == "activity_ids"
    assert w.state.assessments == {}


def meeting(
    meeting_id: str, on: str, minutes: int, kind: str = "individual", org: str | None = HOSPITAL
) -> RecordSupervisionMeeting:
    return RecordSupervisionMeeting(
        doctor_id=DOCTOR,
        meeting_id=meeting_id,
        held_on=d(on),
        minutes=minutes,
        kind=kind,  # type: ignore[arg-type]
        veileder_hpr=VEILEDER,
        recorded_by=org or "doctor",
        has_notes=True,
        org_number=org,
    )


def alis_world() -> World:
    w = World()
    w.period("p2", "2022-01-01", None, part=2, arena="hospital", specialty="allmennmedisin")
    w.ok(
        AssignSupervisor(
            doctor_id=DOCTOR,
            org_number=HOSPITAL,
            hpr_number=VEILEDER,
            role="veileder",
            valid_from=d("2022-01-01"),
            part=2,
            specialty="allmennmedisin",
            specialist_in="allmennmedisin",
        )
    )
    return w


def test_meeting_minutes_count_toward_r12_beside_the_hours_logged() -> None:
    w = alis_world()
    w.ok(LogSupervisionHours(doctor_id=DOCTOR, org_number=HOSPITAL, month="2022-01", hours=2.0))
    w.ok(meeting("m1", "2022-01-10", 90))
    w.ok(meeting("m2", "2022-01-20", 30, org=None))  # the doctor records it
    w.ok(meeting("g1", "2022-01-25", 120, kind="group"))
    rules = rule_set_in_force(d("2022-03-01"))
    report = supervision_report(w.state, "allmennmedisin", d("2022-03-01"), rules)
    assert report is not None and report.hours == 4.0  # 2 logged + 1.5 + 0.5, group not counted
    p = progress(w.state, w.catalogue, d("2022-03-01"))
    assert p.supervision_meetings.individual_meetings == 2
    assert p.supervision_meetings.individual_hours == 2.0
    assert (p.supervision_meetings.group_sessions, p.supervision_meetings.group_hours) == (1, 2.0)


def test_a_meeting_the_doctor_records_belongs_to_the_veileders_organisation() -> None:
    w = alis_world()
    events = w.ok(meeting("m1", "2022-02-01", 60, org=None))
    assert isinstance(events[0], SupervisionMeetingHeld) and events[0].org_number == HOSPITAL


def test_meeting_refusals_name_their_field() -> None:
    w = alis_world()
    assert w.rejected(meeting("m1", "2022-02-01", 0)).field == "minutes"
    assert w.rejected(meeting("m1", "2022-02-01", 60, org=MUNICIPALITY)).field == "org_number"
    stranger = RecordSupervisionMeeting(
        doctor_id=DOCTOR,
        meeting_id="m9",
        held_on=d("2022-02-01"),
        minutes=60,
        kind="individual",
        veileder_hpr="1999999",
        recorded_by="doctor",
    )
    assert w.rejected(stranger).field == "veileder_hpr"
    w.ok(meeting("m1", "2022-02-01", 60))
    assert w.rejected(meeting("m1", "2022-02-02", 60)).field == "meeting_id"


def plan(**period: object) -> RecordEducationPlan:
    fields: dict[str, object] = {
        "part": 1,
        "arena": "hospital",
        "org_number": HOSPITAL,
        "start": d("2020-03-01"),
        "end": d("2020-08-31"),
        "fte_percent": 100,
        "objective_ids": ("KLS-001",),
    }
    fields.update(period)
    return RecordEducationPlan(
        doctor_id=DOCTOR,
        org_number=HOSPITAL,
        recorded_on=d("2020-03-01"),
        periods=(PlanPeriod(**fields),),  # type: ignore[arg-type]
    )


def test_every_plan_written_is_a_new_version_and_old_versions_stay() -> None:
    w = world()
    first = w.ok(plan())
    assert isinstance(first[0], EducationPlanRecorded) and first[0].plan_version == 1
    w.ok(plan(end=d("2021-02-28")))
    assert plan_version(w.state) == 2
    assert [p.end for wr in plan_at(w.state, 1) for p in wr.periods] == [d("2020-08-31")]
    assert [p.end for wr in plan_at(w.state) for p in wr.periods] == [d("2021-02-28")]


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"org_number": MUNICIPALITY}, "periods[0].org_number"),
        ({"end": d("2020-01-01")}, "periods[0].end"),
        ({"arena": None}, "periods[0].arena"),
        ({"objective_ids": ("NOPE-1",)}, "periods[0].objective_ids"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_period(period: dict[str, object], field: str) -> None:
    w = world()
    r = w.rejected(plan(**period))
    assert r.field == field
    assert w.state.plan_history == ()


def test_plan_against_reality_behind_on_track_ahead() -> None:
    w = world()  # served 2020-03-01..2021-02-28 at 100 %
    w.ok(plan())  # planned 2020-03-01..2020-08-31, KLS-001 due by its end
    [part1] = progress(w.state, w.catalogue, d("2020-06-01")).plan
    assert part1.status == "on_track" and part1.plan_version == 1
    [late] = progress(w.state, w.catalogue, d("2020-09-15")).plan
    assert late.status == "behind" and late.objectives_due == ("KLS-001",)
    w.ok(plan(objective_ids=()))
    [ahead] = progress(w.state, w.catalogue, d("2020-12-31")).plan
    assert ahead.status == "ahead" and ahead.served_days > ahead.planned_days
    w.ok(plan(objective_ids=(), fte_percent=100, end=d("2021-12-31")))
    [on] = progress(w.state, w.catalogue, d("2020-12-31")).plan
    assert on.status == "on_track"
    w.ok(plan(objective_ids=(), fte_percent=100, start=d("2020-01-01"), end=d("2021-12-31")))
    [behind] = progress(w.state, w.catalogue, d("2020-12-31")).plan
    assert behind.status == "behind"
