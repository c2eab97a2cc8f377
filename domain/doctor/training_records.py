"""The training year as it stands in a doctor's state (issue 15): learning activities with
their sign-off, the supervision meetings held, the education plan's versions, and how the
training year's events change them (the steps :func:`domain.doctor.state.evolve` calls). A
meeting's notes are not here (they are personal data, kept apart from the events)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, assert_never

import msgspec

from domain.copying import copy_as
from events import training as ev
from events.training import PlanPeriod

if TYPE_CHECKING:
    from domain.doctor.state import DoctorState


class SignOff(msgspec.Struct, frozen=True, kw_only=True):
    org_number: str
    signed_by_hpr: str
    signed_on: date
    comment: str | None = None


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    kind: str
    date: date
    objective_ids: tuple[str, ...]
    description: str
    recorded_by: str
    sign_off: SignOff | None = None


class Meeting(msgspec.Struct, frozen=True, kw_only=True):
    meeting_id: str
    held_on: date
    minutes: int
    kind: str
    veileder_hpr: str
    org_number: str
    recorded_by: str
    has_notes: bool = False


class PlanWrite(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the plan, as an employer wrote it for its own service (R17)."""

    plan_version: int
    org_number: str
    recorded_on: date
    periods: tuple[PlanPeriod, ...]


def plan_version(state: DoctorState) -> int:
    return state.plan_history[-1].plan_version if state.plan_history else 0


def plan_at(state: DoctorState, version: int | None = None) -> list[PlanWrite]:
    """The plan at ``version`` (default: the latest): each employer's latest write."""
    latest: dict[str, PlanWrite] = {}
    for w in state.plan_history:
        if version is None or w.plan_version <= version:
            latest[w.org_number] = w
    return sorted(latest.values(), key=lambda w: w.org_number)


r = msgspec.structs.replace


def _plan_recorded(state: DoctorState, e: ev.EducationPlanRecorded) -> DoctorState:
    """R17: the first plan per employer (``plans``) and every version (``plan_history``)."""
    history = (*state.plan_history, copy_as(PlanWrite, e))
    if e.org_number in state.plans:
        return r(state, plan_history=history)
    return r(state, plans={**state.plans, e.org_number: e.recorded_on}, plan_history=history)


def _activity_recorded(state: DoctorState, e: ev.LearningActivityRecorded) -> DoctorState:
    return r(state, activities={**state.activities, e.activity_id: copy_as(Activity, e)})


def _signed_off(state: DoctorState, e: ev.LearningActivitySignedOff) -> DoctorState:
    old = state.activities.get(e.activity_id)
    if old is None:
        return state
    signed = r(old, sign_off=copy_as(SignOff, e))
    return r(state, activities={**state.activities, e.activity_id: signed})


def _evidence_cited(state: DoctorState, e: ev.AssessmentEvidenceCited) -> DoctorState:
    return r(state, citations={**state.citations, e.objective_id: e.activity_ids})


def _meeting_held(state: DoctorState, e: ev.SupervisionMeetingHeld) -> DoctorState:
    return r(state, meetings={**state.meetings, e.meeting_id: copy_as(Meeting, e)})


def evolve(state: DoctorState, event: ev.TrainingEvent) -> DoctorState:
    """The training year's part of :func:`domain.doctor.state.evolve`, one line per event."""
    match event:
        case ev.EducationPlanRecorded():
            return _plan_recorded(state, event)
        case ev.LearningActivityRecorded():
            return _activity_recorded(state, event)
        case ev.LearningActivitySignedOff():
            return _signed_off(state, event)
        case ev.AssessmentEvidenceCited():
            return _evidence_cited(state, event)
        case ev.SupervisionMeetingHeld():
            return _meeting_held(state, event)
        case _:
            assert_never(event)
