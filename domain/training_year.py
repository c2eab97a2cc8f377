"""The training year in progress (issue 15): per objective, the learning activities that
serve it with their sign-off; supervision meetings as hours for R12 (individual meetings,
beside the monthly hours logged) and group supervision shown beside them (R18)."""

from __future__ import annotations

import datetime
from datetime import date

import msgspec

from domain.doctor.state import DoctorState


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
        view = ObjectiveActivity(
            activity_id=a.activity_id,
            kind=a.kind,
            date=a.date,
            description=a.description,
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
