"""Decisions on the training year (issue 15): learning activities, their sign-off, the
activities an assessment cites, and supervision meetings. Called from
:func:`domain.doctor.decide._dispatch`; each refusal names its field (and rule where one
applies), and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from domain.copying import copy_as
from domain.doctor import commands
from domain.doctor.checks import NO_SERVICE, no_service_at
from domain.doctor.state import DoctorState
from domain.doctor.training_records import plan_version
from domain.organisation import authority
from domain.rejection import Rejection, reject
from events import doctor as ev
from events.training import RECORDED_BY_DOCTOR, PlanPeriod

if TYPE_CHECKING:
    from domain.doctor.decide import Context, Decision

MAX_MEETING_MINUTES = 24 * 60
_NO_SERVICE = f"org_number: {NO_SERVICE}"  # each refusal here starts with its field


def _not_in_catalogue(objective_ids: Iterable[str], on: date, ctx: Context) -> str | None:
    """R4: the first of ``objective_ids`` not in the catalogue version in force on ``on``."""
    version = ctx.require_catalogue().version_on(on)
    known = set(version.objectives) if version is not None else set()
    return next((o for o in objective_ids if o not in known), None)


def record_activity(
    cmd: commands.RecordLearningActivity, state: DoctorState, ctx: Context
) -> Decision:
    if cmd.activity_id in state.activities:
        return reject("duplicate", "activity_id: the activity exists", field="activity_id")
    if not cmd.objective_ids:
        return reject("invalid_value", "objective_ids: empty", field="objective_ids")
    if not cmd.description.strip():
        return reject("invalid_value", "description: empty", field="description")
    if (unknown := _not_in_catalogue(cmd.objective_ids, cmd.date, ctx)) is not None:
        return reject(
            "unknown_reference",
            f"objective_ids: {unknown} is not in the doctor's catalogue version "
            f"in force on {cmd.date.isoformat()} (R4)",
            field="objective_ids",
            rule="R4",
        )
    if cmd.recorded_by != RECORDED_BY_DOCTOR:  # an employer records it: its own service
        unserved = no_service_at(state, cmd.recorded_by, "R5", _NO_SERVICE)
        if unserved is not None:
            return unserved
    return [copy_as(ev.LearningActivityRecorded, cmd)]


def _has_role_at(cmd: commands.SignOffLearningActivity, state: DoctorState, ctx: Context) -> bool:
    """A supervisør of the doctor at that institution, or its leader or a delegate."""
    if any(
        s.org_number == cmd.org_number
        and s.hpr_number == cmd.signed_by_hpr
        and s.valid_from <= cmd.signed_on
        for s in state.supervisors
    ):
        return True
    org = ctx.organisations.get(cmd.org_number)
    return org is not None and authority(org, cmd.signed_by_hpr, cmd.signed_on) is not None


def sign_off(cmd: commands.SignOffLearningActivity, state: DoctorState, ctx: Context) -> Decision:
    activity = state.activities.get(cmd.activity_id)
    if activity is None:
        return reject(
            "unknown_reference", "activity_id: no such learning activity", field="activity_id"
        )
    if activity.sign_off is not None:
        return reject(
            "duplicate", "activity_id: the activity is already signed off", field="activity_id"
        )
    if cmd.signed_on < activity.date:
        return reject(
            "invalid_value", "signed_on: before the activity took place", field="signed_on"
        )
    if (unserved := no_service_at(state, cmd.org_number, "R5", _NO_SERVICE)) is not None:
        return unserved
    if not _has_role_at(cmd, state, ctx):
        return reject(
            "rule_violation",
            "signed_by_hpr: no role at this institution on signed_on: neither the "
            "doctor's veileder or supervisor there nor its leader or a delegate (R5)",
            field="signed_by_hpr",
            rule="R5",
        )
    return [copy_as(ev.LearningActivitySignedOff, cmd)]


def cite(cmd: commands.AssessObjective, state: DoctorState) -> Rejection | None:
    """The activities an assessment cites exist, serve its objective and precede it."""
    for activity_id in cmd.activity_ids:
        activity = state.activities.get(activity_id)
        if activity is None:
            return reject(
                "unknown_reference",
                f"activity_ids: no activity {activity_id}",
                field="activity_ids",
            )
        if cmd.objective_id not in activity.objective_ids:
            return reject(
                "invalid_value",
                f"activity_ids: activity {activity_id} does not serve {cmd.objective_id}",
                field="activity_ids",
            )
        if activity.date > cmd.assessed_on:
            return reject(
                "invalid_value",
                f"activity_ids: activity {activity_id} is after assessed_on",
                field="activity_ids",
            )
    return None


def record_meeting(
    cmd: commands.RecordSupervisionMeeting, state: DoctorState, _ctx: Context
) -> Decision:
    if cmd.meeting_id in state.meetings:
        return reject("duplicate", "meeting_id: the meeting exists", field="meeting_id")
    if not 1 <= cmd.minutes <= MAX_MEETING_MINUTES:
        return reject("invalid_value", "minutes: must be 1-1440 (R12)", field="minutes", rule="R12")
    org = cmd.org_number
    if org is None:  # the doctor records it: the veileder's organisation is the assignment's
        assigned = [s for s in state.supervisors if s.hpr_number == cmd.veileder_hpr]
        if not assigned:
            return reject(
                "unknown_reference",
                "veileder_hpr: not assigned as the doctor's veileder or supervisor (R13)",
                field="veileder_hpr",
                rule="R13",
            )
        org = sorted(assigned, key=lambda s: s.valid_from)[-1].org_number
    elif (unserved := no_service_at(state, org, "R12", _NO_SERVICE)) is not None:
        return unserved
    return [copy_as(ev.SupervisionMeetingHeld, cmd, org_number=org)]


def _check_plan_period(
    i: int, p: PlanPeriod, cmd: commands.RecordEducationPlan, ctx: Context
) -> Rejection | None:
    where = f"periods[{i}]"
    if p.org_number != cmd.org_number:
        return reject(
            "rule_violation",
            f"{where}.org_number: an employer writes the plan for its own service only (R17)",
            field=f"{where}.org_number",
            rule="R17",
        )
    if p.end < p.start:
        return reject("invalid_value", f"{where}.end: before start", field=f"{where}.end")
    if not 1 <= p.fte_percent <= 100:
        return reject(
            "invalid_value", f"{where}.fte_percent: must be 1-100", field=f"{where}.fte_percent"
        )
    if p.part == 1 and p.arena is None:
        return reject(
            "invalid_value",
            f"{where}.arena: a part-1 period needs arena hospital or municipal (R1)",
            field=f"{where}.arena",
            rule="R1",
        )
    if (unknown := _not_in_catalogue(p.objective_ids, p.start, ctx)) is not None:
        return reject(
            "unknown_reference",
            f"{where}.objective_ids: {unknown} is not in the catalogue in force on "
            f"{p.start.isoformat()} (R4)",
            field=f"{where}.objective_ids",
            rule="R4",
        )
    return None


def record_plan(cmd: commands.RecordEducationPlan, state: DoctorState, ctx: Context) -> Decision:
    for i, p in enumerate(cmd.periods):
        if (refused := _check_plan_period(i, p, cmd, ctx)) is not None:
            return refused
    return [copy_as(ev.EducationPlanRecorded, cmd, plan_version=plan_version(state) + 1)]
