"""The training year as it stands in a doctor's state (issue 15): learning activities with
their sign-off and the supervision meetings held. Plain Structs, folded by
:func:`domain.doctor.state.evolve`; a meeting's notes are not here (they are personal data,
kept apart from the events)."""

from __future__ import annotations

from datetime import date

import msgspec

from events.training import PlanPeriod


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
