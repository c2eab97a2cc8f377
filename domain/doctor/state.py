"""A doctor's record as a fold over its events: ``evolve(state, event) -> state``.

One frozen Struct per kind of fact, so a service stores the state as a snapshot and decides
on it without re-reading the history. They are the snapshot's shape (``snapshot_schema``),
not the events': an event's facts and its piece of state look alike but change apart, so each
is written out here (:func:`domain.copying.copy_as` copies between them). The training year
folds its own events (:mod:`domain.doctor.training_records`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import assert_never

import msgspec

from domain.copying import copy_as
from domain.doctor import training_records
from domain.doctor.training_records import Activity, Meeting, PlanWrite
from events import doctor as ev
from events.relations import RelationEvent, RelationFact
from events.training import TrainingYearEvent
from events.vocabulary import Arena, Part


class Period(msgspec.Struct, frozen=True, kw_only=True):
    period_id: str
    org_number: str
    part: Part
    arena: Arena | None
    position: str
    fte_percent: int
    start: date
    end: date | None
    specialty: str | None = None
    open_unselected_gp: bool = False
    self_created_post: bool = False


class Absence(msgspec.Struct, frozen=True, kw_only=True):
    absence_id: str
    period_id: str
    kind: str
    start: date
    end: date
    percent: int


class ConfirmedAbsence(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    start: date
    end: date
    percent: int


class Confirmation(msgspec.Struct, frozen=True, kw_only=True):
    """R7. ``period`` and ``absences`` are the facts as they stood when it was issued: a later
    correction that changes them makes the confirmation stale (:mod:`domain.basis`)."""

    period_id: str
    issued_on: date
    signed_by_hpr: str
    period: Period | None = None
    absences: tuple[ConfirmedAbsence, ...] = ()


class Supervisor(msgspec.Struct, frozen=True, kw_only=True):
    assignment_id: str = ""
    org_number: str
    hpr_number: str
    role: str
    valid_from: date
    part: Part
    specialty: str | None = None
    specialist_in: str | None = None
    substantial_experience: bool = False
    external_stay: bool = False
    valid_to: date | None = None  # R13: an ended assignment holds up to this day

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


# Stored as an array, not a map: a long record holds thousands, and field names would be
# half of the snapshot's bytes (decoded on every write).
class Assessment(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    objective_id: str
    catalogue_version: str
    org_number: str
    assessor_hpr: str
    assessor_role: str
    outcome: str
    assessed_on: date
    seq: int = 0  # order of recording among all the doctor's assessments (ties on a day)


class Approval(msgspec.Struct, frozen=True, kw_only=True):
    objective_id: str
    catalogue_version: str
    org_number: str
    approver_hpr: str
    leader_hpr: str
    delegation_id: str | None
    approved_on: date
    revoked_on: date | None = None
    revoke_reason: str | None = None

    def active_on(self, on: date) -> bool:
        return self.approved_on <= on and (self.revoked_on is None or on < self.revoked_on)


class ExceptionRecord(msgspec.Struct, frozen=True, kw_only=True):
    exception_id: str
    kind: str
    granted_by: str
    granted_on: date
    valid_from: date | None = None
    valid_to: date | None = None
    granted_by_hpr: str | None = None
    period_id: str | None = None
    supervisor_hpr: str | None = None
    credit_months: int | None = None
    reason: str = ""
    withdrawn_on: date | None = None
    withdraw_reason: str | None = None

    def in_force(self, on: date) -> bool:
        """Valid on ``on``: inside its validity period and not withdrawn by then."""
        start = self.valid_from or self.granted_on
        if on < start or (self.valid_to is not None and on > self.valid_to):
            return False
        return self.withdrawn_on is None or on < self.withdrawn_on


class GroupSession(msgspec.Struct, frozen=True, kw_only=True):
    org_number: str
    held_on: date
    minutes: int


class SupervisionEntry(msgspec.Struct, frozen=True, kw_only=True):
    month: str
    org_number: str
    hours: float


class ApprovalRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A doctor's request that a leader approve an objective: waiting, or returned with a
    comment. Withdrawn and approved requests are gone."""

    objective_id: str
    org_number: str
    requested_on: date
    status: str = "waiting"  # waiting | returned
    comment: str | None = None
    returned_on: date | None = None


class DoctorState(msgspec.Struct, frozen=True, kw_only=True):
    doctor_id: str = ""
    registered: bool = False
    authorised_on: date | None = None
    periods: dict[str, Period] = {}
    absences: dict[str, Absence] = {}
    confirmations: dict[str, Confirmation] = {}
    supervisors: tuple[Supervisor, ...] = ()
    # Indexed by the objective id they were recorded under, each in order of recording, so
    # a decision about one objective reads its own (and those renamed into it), not all.
    assessments: dict[str, tuple[Assessment, ...]] = {}
    assessment_count: int = 0
    approvals: tuple[Approval, ...] = ()  # history; revocation sets revoked_on
    exceptions: dict[str, ExceptionRecord] = {}
    supervision_hours: dict[str, SupervisionEntry] = {}
    approval_requests: dict[str, ApprovalRequest] = {}
    plans: dict[str, date] = {}  # R17: employer org number -> first plan recorded on
    group_sessions: tuple[GroupSession, ...] = ()  # R18
    activities: dict[str, Activity] = {}  # learning activities (issue 15)
    meetings: dict[str, Meeting] = {}  # supervision meetings (R12, R18)
    citations: dict[str, tuple[str, ...]] = {}  # objective_id -> activities its assessment cited
    plan_history: tuple[PlanWrite, ...] = ()  # R17: every version of the education plan

    def all_assessments(self) -> list[Assessment]:
        """Every assessment, in order of recording."""
        return sorted((a for xs in self.assessments.values() for a in xs), key=lambda a: a.seq)

    def absences_of(self, period_id: str) -> list[Absence]:
        return [a for a in self.absences.values() if a.period_id == period_id]

    def serves_at(self, org_number: str) -> bool:
        """Some service period (any time) at this institution."""
        return any(p.org_number == org_number for p in self.periods.values())

    def serves_during(self, org_number: str, first: date, last: date) -> bool:
        """Some service period at this institution overlaps ``first``..``last`` (inclusive)."""
        return any(
            p.org_number == org_number and p.start <= last and (p.end is None or first <= p.end)
            for p in self.periods.values()
        )

    def has_exception(self, kind: str) -> bool:
        return any(x.kind == kind for x in self.exceptions.values())


r = msgspec.structs.replace


def _registered(state: DoctorState, e: ev.DoctorRegistered) -> DoctorState:
    return r(state, doctor_id=e.doctor_id, registered=True, authorised_on=e.authorised_on)


def _period_set(
    state: DoctorState, e: ev.ServicePeriodRecorded | ev.ServicePeriodCorrected
) -> DoctorState:
    return r(state, periods={**state.periods, e.period_id: copy_as(Period, e)})


def _period_retracted(state: DoctorState, e: ev.ServicePeriodRetracted) -> DoctorState:
    periods = {k: v for k, v in state.periods.items() if k != e.period_id}
    absences = {k: a for k, a in state.absences.items() if a.period_id != e.period_id}
    confirmations = {k: c for k, c in state.confirmations.items() if k != e.period_id}
    return r(state, periods=periods, absences=absences, confirmations=confirmations)


def _absence_logged(state: DoctorState, e: ev.AbsenceLogged) -> DoctorState:
    return r(state, absences={**state.absences, e.absence_id: copy_as(Absence, e)})


def _absence_retracted(state: DoctorState, e: ev.AbsenceRetracted) -> DoctorState:
    return r(state, absences={k: v for k, v in state.absences.items() if k != e.absence_id})


def _supervisor_assigned(state: DoctorState, e: ev.SupervisorAssigned) -> DoctorState:
    return r(state, supervisors=(*state.supervisors, copy_as(Supervisor, e)))


def _supervisor_ended(state: DoctorState, e: ev.SupervisorAssignmentEnded) -> DoctorState:
    ended = tuple(
        r(x, valid_to=e.valid_to) if x.assignment_id == e.assignment_id else x
        for x in state.supervisors
    )
    return r(state, supervisors=ended)


def _assessed(state: DoctorState, e: ev.ObjectiveAssessed) -> DoctorState:
    made = copy_as(Assessment, e, seq=state.assessment_count)
    mine = (*state.assessments.get(e.objective_id, ()), made)
    return r(
        state,
        assessments={**state.assessments, e.objective_id: mine},
        assessment_count=state.assessment_count + 1,
    )


def _approved(state: DoctorState, e: ev.ObjectiveApproved) -> DoctorState:
    # An approval answers any waiting request for that objective.
    requests = {k: v for k, v in state.approval_requests.items() if k != e.objective_id}
    approvals = (*state.approvals, copy_as(Approval, e))
    return r(state, approvals=approvals, approval_requests=requests)


def _revoked(state: DoctorState, e: ev.ApprovalRevoked) -> DoctorState:
    approvals = tuple(
        r(a, revoked_on=e.revoked_on, revoke_reason=e.reason)
        if a.objective_id == e.objective_id and a.revoked_on is None
        else a
        for a in state.approvals
    )
    return r(state, approvals=approvals)


def confirmed_absences(state: DoctorState, period_id: str) -> tuple[ConfirmedAbsence, ...]:
    """The absences of a period as facts (no ids), in a stable order: what a confirmation
    states and what its staleness is compared against (R7)."""
    return tuple(
        sorted(
            (copy_as(ConfirmedAbsence, a) for a in state.absences_of(period_id)),
            key=lambda a: (a.start, a.end, a.kind, a.percent),
        )
    )


def _confirmed(state: DoctorState, e: ev.ServiceConfirmationIssued) -> DoctorState:
    c = copy_as(
        Confirmation,
        e,
        period=state.periods.get(e.period_id),
        absences=confirmed_absences(state, e.period_id),
    )
    return r(state, confirmations={**state.confirmations, e.period_id: c})


def _hours(state: DoctorState, e: ev.SupervisionHoursLogged) -> DoctorState:
    key = f"{e.month}/{e.org_number}"
    return r(
        state, supervision_hours={**state.supervision_hours, key: copy_as(SupervisionEntry, e)}
    )


def _exception(state: DoctorState, e: ev.ExceptionGranted) -> DoctorState:
    x = copy_as(ExceptionRecord, e)
    return r(state, exceptions={**state.exceptions, x.exception_id: x})


def _exception_withdrawn(state: DoctorState, e: ev.ExceptionWithdrawn) -> DoctorState:
    old = state.exceptions.get(e.exception_id)
    if old is None:
        return state
    gone = r(old, withdrawn_on=e.withdrawn_on, withdraw_reason=e.reason)
    return r(state, exceptions={**state.exceptions, gone.exception_id: gone})


def _group_session(state: DoctorState, e: ev.GroupSupervisionAttended) -> DoctorState:
    return r(state, group_sessions=(*state.group_sessions, copy_as(GroupSession, e)))


def _requested(state: DoctorState, e: ev.ApprovalRequested) -> DoctorState:
    request = copy_as(ApprovalRequest, e)
    return r(state, approval_requests={**state.approval_requests, e.objective_id: request})


def _withdrawn(state: DoctorState, e: ev.ApprovalRequestWithdrawn) -> DoctorState:
    remaining = {k: v for k, v in state.approval_requests.items() if k != e.objective_id}
    return r(state, approval_requests=remaining)


def _returned(state: DoctorState, e: ev.ApprovalRequestReturned) -> DoctorState:
    old = state.approval_requests.get(e.objective_id)
    if old is None:
        return state
    returned = r(old, status="returned", comment=e.comment, returned_on=e.returned_on)
    return r(state, approval_requests={**state.approval_requests, e.objective_id: returned})


def evolve(state: DoctorState, event: ev.DoctorEvent | RelationEvent) -> DoctorState:
    """One line per event type; ``assert_never`` makes mypy refuse a forgotten one."""
    match event:
        case ev.DoctorRegistered():
            return _registered(state, event)
        case ev.ServicePeriodRecorded() | ev.ServicePeriodCorrected():
            return _period_set(state, event)
        case ev.ServicePeriodRetracted():
            return _period_retracted(state, event)
        case ev.AbsenceLogged():
            return _absence_logged(state, event)
        case ev.AbsenceRetracted():
            return _absence_retracted(state, event)
        case ev.SupervisorAssigned():
            return _supervisor_assigned(state, event)
        case ev.SupervisorAssignmentEnded():
            return _supervisor_ended(state, event)
        case ev.ObjectiveAssessed():
            return _assessed(state, event)
        case ev.ObjectiveApproved():
            return _approved(state, event)
        case ev.ApprovalRevoked():
            return _revoked(state, event)
        case ev.ServiceConfirmationIssued():
            return _confirmed(state, event)
        case ev.SupervisionHoursLogged():
            return _hours(state, event)
        case ev.ExceptionGranted():
            return _exception(state, event)
        case ev.ExceptionWithdrawn():
            return _exception_withdrawn(state, event)
        case ev.GroupSupervisionAttended():
            return _group_session(state, event)
        case ev.ApprovalRequested():
            return _requested(state, event)
        case ev.ApprovalRequestWithdrawn():
            return _withdrawn(state, event)
        case ev.ApprovalRequestReturned():
            return _returned(state, event)
        case TrainingYearEvent():
            return training_records.evolve(state, event)
        case RelationFact():
            # Relations and identities are not decision state: their status is the
            # doctor_organisations row written with the event (issue 13).
            return state
        case _:
            assert_never(event)


def fold(state: DoctorState, events: Iterable[ev.DoctorEvent | RelationEvent]) -> DoctorState:
    for e in events:
        state = evolve(state, e)
    return state
