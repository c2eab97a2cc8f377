"""The training year in progress (issue 15): per objective, the learning activities that
serve it with their sign-off; supervision meetings as hours for R12 (individual meetings,
beside the monthly hours logged) and group supervision shown beside them (R18)."""

from __future__ import annotations

import datetime
from datetime import date
from typing import Literal

import msgspec

from domain.copying import copy_as
from domain.doctor.state import DoctorState
from domain.doctor.training_records import plan_at, plan_version


class ObjectiveActivity(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    kind: str
    date: datetime.date
    description: str
    signed_off: bool
    signed_on: datetime.date | None = None
    signed_by_hpr: str | None = None
    signed_at_org: str | None = None
    comment: str | None = None


class MeetingSummary(msgspec.Struct, frozen=True, kw_only=True):
    """R12/R18: meetings held up to ``as_of``. Individual meetings count toward R12's hours;
    group supervision (R18) is shown beside them and does not."""

    individual_meetings: int = 0
    individual_hours: float = 0.0
    group_sessions: int = 0
    group_hours: float = 0.0


def activities_by_objective(
    state: DoctorState, as_of: date
) -> dict[str, tuple[ObjectiveActivity, ...]]:
    found: dict[str, list[ObjectiveActivity]] = {}
    for a in sorted(state.activities.values(), key=lambda a: (a.date, a.activity_id)):
        if a.date > as_of:
            continue
        s = a.sign_off if a.sign_off is not None and a.sign_off.signed_on <= as_of else None
        view = copy_as(
            ObjectiveActivity,
            a,
            signed_off=s is not None,
            signed_on=s.signed_on if s else None,
            signed_by_hpr=s.signed_by_hpr if s else None,
            signed_at_org=s.org_number if s else None,
            comment=s.comment if s else None,
        )
        for objective_id in a.objective_ids:
            found.setdefault(objective_id, []).append(view)
    return {k: tuple(v) for k, v in found.items()}


def meeting_hours_by_month(state: DoctorState, as_of: date) -> dict[str, float]:
    """R12: individual supervision meetings' hours per month (``YYYY-MM``)."""
    hours: dict[str, float] = {}
    for m in state.meetings.values():
        if m.kind == "individual" and m.held_on <= as_of:
            key = f"{m.held_on.year:04d}-{m.held_on.month:02d}"
            hours[key] = hours.get(key, 0.0) + m.minutes / 60
    return hours


def meeting_summary(state: DoctorState, as_of: date) -> MeetingSummary:
    held = [m for m in state.meetings.values() if m.held_on <= as_of]
    individual = [m for m in held if m.kind == "individual"]
    group = [m for m in held if m.kind == "group"]
    return MeetingSummary(
        individual_meetings=len(individual),
        individual_hours=round(sum(m.minutes for m in individual) / 60, 2),
        group_sessions=len(group),
        group_hours=round(sum(m.minutes for m in group) / 60, 2),
    )


PlanStatusName = Literal["behind", "on_track", "ahead"]
TOLERANCE = 0.10  # within 10 % of the planned time is on track


class PartPlanStatus(msgspec.Struct, frozen=True, kw_only=True):
    """R17, plan against reality for one part up to ``as_of``: FTE-weighted days planned and
    served, and the objectives planned in periods that have ended against those approved."""

    part: int
    plan_version: int
    planned_days: float
    served_days: float
    objectives_due: tuple[str, ...]
    objectives_due_approved: int
    status: PlanStatusName


def _weighted_days(spans: list[tuple[date, date, int]], as_of: date) -> float:
    total = 0.0
    for start, end, fte in spans:
        last = min(end, as_of)
        if last >= start:
            total += ((last - start).days + 1) * fte / 100
    return total


def plan_status(
    state: DoctorState, as_of: date, approved: frozenset[str]
) -> tuple[PartPlanStatus, ...]:
    """Per part with planned periods: behind when less time was served than planned (by
    more than 10 %) or an objective planned in a period that has ended is not approved;
    ahead when more was served than planned (by more than 10 %); otherwise on track."""
    periods = [p for w in plan_at(state) for p in w.periods]
    out = []
    for part in sorted({p.part for p in periods}):
        planned = [p for p in periods if p.part == part]
        planned_days = _weighted_days([(p.start, p.end, p.fte_percent) for p in planned], as_of)
        served_days = _weighted_days(
            [
                (s.start, s.end or as_of, s.fte_percent)
                for s in state.periods.values()
                if s.part == part
            ],
            as_of,
        )
        due = tuple(sorted({o for p in planned if p.end <= as_of for o in p.objective_ids}))
        done = sum(1 for o in due if o in approved)
        status: PlanStatusName = "on_track"
        if served_days < planned_days * (1 - TOLERANCE) or done < len(due):
            status = "behind"
        elif served_days > planned_days * (1 + TOLERANCE):
            status = "ahead"
        out.append(
            PartPlanStatus(
                part=part,
                plan_version=plan_version(state),
                planned_days=round(planned_days, 1),
                served_days=round(served_days, 1),
                objectives_due=due,
                objectives_due_approved=done,
                status=status,
            )
        )
    return tuple(out)
