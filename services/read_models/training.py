"""Reads of the training year (issue 15): a doctor's learning activities and supervision
meetings. A meeting's notes come from ``meeting_notes`` (kept apart from the events) and
only for the readers entitled to them: the doctor, and the veileder's organisation."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.copying import copy_as
from domain.doctor.training_records import Activity, plan_at, plan_version
from events.training import PlanPeriod
from services.read_models import states
from services.store import sql


@dataclass(frozen=True)
class NotesReader:
    """Whose notes the caller may read: all of them (the doctor) or those of meetings whose
    veileder's organisation is one of ``orgs`` (an organisation). The directorate: none."""

    doctor: bool = False
    orgs: frozenset[str] = frozenset()

    def may_read(self, org_number: str) -> bool:
        return self.doctor or org_number in self.orgs


class ActivityView(msgspec.Struct, frozen=True, kw_only=True):
    activity_id: str
    kind: str
    date: datetime.date
    objective_ids: tuple[str, ...]
    description: str
    recorded_by: str
    signed_off: bool
    signed_by_hpr: str | None = None
    signed_on: datetime.date | None = None
    signed_at_org: str | None = None
    comment: str | None = None


class MeetingView(msgspec.Struct, frozen=True, kw_only=True):
    meeting_id: str
    held_on: datetime.date
    minutes: int
    kind: str
    veileder_hpr: str
    org_number: str
    recorded_by: str
    has_notes: bool
    notes_readable: bool  # whether this caller may read the notes (then ``notes`` is set)
    notes: str | None = None


class PlanWriteView(msgspec.Struct, frozen=True, kw_only=True):
    plan_version: int
    org_number: str
    recorded_on: datetime.date


class PlanView(msgspec.Struct, frozen=True, kw_only=True):
    """R17: the plan at ``plan_version``: each employer's latest periods up to it."""

    doctor_id: str
    plan_version: int
    latest_version: int
    periods: tuple[PlanPeriod, ...]
    written: tuple[PlanWriteView, ...]


def _activity_view(a: Activity) -> ActivityView:
    s = a.sign_off
    if s is None:
        return copy_as(ActivityView, a, signed_off=False)
    return copy_as(
        ActivityView,
        a,
        signed_off=True,
        signed_by_hpr=s.signed_by_hpr,
        signed_on=s.signed_on,
        signed_at_org=s.org_number,
        comment=s.comment,
    )


class TrainingReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def activities(self, doctor_id: str) -> list[ActivityView]:
        async with self._engine.connect() as conn:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
        activities = sorted(state.activities.values(), key=lambda a: (a.date, a.activity_id))
        return [_activity_view(a) for a in activities]

    async def meetings(self, doctor_id: str, reader: NotesReader) -> list[MeetingView]:
        async with self._engine.connect() as conn:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
            readable = [
                m.meeting_id for m in state.meetings.values() if reader.may_read(m.org_number)
            ]
            rows = await sql.rows(
                conn,
                "SELECT meeting_id, notes FROM meeting_notes "
                "WHERE doctor_id = :d AND meeting_id = ANY(:m) AND notes IS NOT NULL",
                {"d": doctor_id, "m": readable},
            )
        notes = {r.meeting_id: str(r.notes) for r in rows}
        return [
            copy_as(
                MeetingView,
                m,
                notes_readable=reader.may_read(m.org_number),
                notes=notes.get(m.meeting_id),
            )
            for m in sorted(state.meetings.values(), key=lambda m: (m.held_on, m.meeting_id))
        ]

    async def plan(self, doctor_id: str, version: int | None) -> PlanView | None:
        """None: no such version (or no plan at all)."""
        async with self._engine.connect() as conn:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
        latest = plan_version(state)
        wanted = latest if version is None else version
        if not 1 <= wanted <= latest:
            return None
        writes = plan_at(state, wanted)
        return PlanView(
            doctor_id=doctor_id,
            plan_version=wanted,
            latest_version=latest,
            periods=tuple(p for w in writes for p in sorted(w.periods, key=lambda p: p.start)),
            written=tuple(
                PlanWriteView(
                    plan_version=w.plan_version, org_number=w.org_number, recorded_on=w.recorded_on
                )
                for w in writes
            ),
        )
