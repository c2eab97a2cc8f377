"""A doctor's record as a fold over its events: ``evolve(state, event) -> state``.

The state is a frozen msgspec Struct, so a service can store it as a snapshot
(``msgspec.json.encode``) and decide on it without re-reading the history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from events.doctor import (
    AbsenceLogged,
    AbsenceRetracted,
    ApprovalRequested,
    ApprovalRequestReturned,
    ApprovalRequestWithdrawn,
    ApprovalRevoked,
    DoctorEvent,
    DoctorRegistered,
    EducationPlanRecorded,
    ExceptionGranted,
    ExceptionWithdrawn,
    GroupSupervisionAttended,
    ObjectiveApproved,
    ObjectiveAssessed,
    ServiceConfirmationIssued,
    ServicePeriodCorrected,
    ServicePeriodRecorded,
    ServicePeriodRetracted,
    SupervisionHoursLogged,
    SupervisorAssigned,
    SupervisorAssignmentEnded,
)
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


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    objective_id: str
    catalogue_version: str
    org_number: str
    assessor_hpr: str
    assessor_role: str
    outcome: str
    assessed_on: date


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
    assessments: tuple[Assessment, ...] = ()
    approvals: tuple[Approval, ...] = ()  # history; revocation sets revoked_on
    exceptions: dict[str, ExceptionRecord] = {}
    supervision_hours: dict[str, SupervisionEntry] = {}
    approval_requests: dict[str, ApprovalRequest] = {}
    plans: dict[str, date] = {}  # R17: employer org number -> first plan recorded on
    group_sessions: tuple[GroupSession, ...] = ()  # R18

    def absences_of(self, period_id: str) -> list[Absence]:
        return [a for a in self.absences.values() if a.period_id == period_id]

    def has_exception(self, kind: str) -> bool:
        return any(x.kind == kind for x in self.exceptions.values())


def _period(e: ServicePeriodRecorded | ServicePeriodCorrected) -> Period:
    return Period(
        period_id=e.period_id,
        org_number=e.org_number,
        part=e.part,
        arena=e.arena,
        position=e.position,
        fte_percent=e.fte_percent,
        start=e.start,
        end=e.end,
        specialty=e.specialty,
        open_unselected_gp=e.open_unselected_gp,
        self_created_post=e.self_created_post,
    )


def evolve(state: DoctorState, event: DoctorEvent) -> DoctorState:
    r = msgspec.structs.replace
    match event:
        case DoctorRegistered():
            return r(
                state, doctor_id=event.doctor_id, registered=True, authorised_on=event.authorised_on
            )
        case ServicePeriodRecorded() | ServicePeriodCorrected():
            return r(state, periods={**state.periods, event.period_id: _period(event)})
        case ServicePeriodRetracted():
            periods = {k: v for k, v in state.periods.items() if k != event.period_id}
            absences = {k: a for k, a in state.absences.items() if a.period_id != event.period_id}
            confirmations = {k: c for k, c in state.confirmations.items() if k != event.period_id}
            return r(state, periods=periods, absences=absences, confirmations=confirmations)
        case AbsenceLogged():
            a = Absence(
                absence_id=event.absence_id,
                period_id=event.period_id,
                kind=event.kind,
                start=event.start,
                end=event.end,
                percent=event.percent,
            )
            return r(state, absences={**state.absences, a.absence_id: a})
        case AbsenceRetracted():
            return r(
                state,
                absences={k: v for k, v in state.absences.items() if k != event.absence_id},
            )
        case SupervisorAssigned():
            s = Supervisor(
                assignment_id=event.assignment_id,
                org_number=event.org_number,
                hpr_number=event.hpr_number,
                role=event.role,
                valid_from=event.valid_from,
                part=event.part,
                specialty=event.specialty,
                specialist_in=event.specialist_in,
                substantial_experience=event.substantial_experience,
                external_stay=event.external_stay,
            )
            return r(state, supervisors=(*state.supervisors, s))
        case SupervisorAssignmentEnded():
            ended = tuple(
                r(x, valid_to=event.valid_to) if x.assignment_id == event.assignment_id else x
                for x in state.supervisors
            )
            return r(state, supervisors=ended)
        case ObjectiveAssessed():
            a2 = Assessment(
                objective_id=event.objective_id,
                catalogue_version=event.catalogue_version,
                org_number=event.org_number,
                assessor_hpr=event.assessor_hpr,
                assessor_role=event.assessor_role,
                outcome=event.outcome,
                assessed_on=event.assessed_on,
            )
            return r(state, assessments=(*state.assessments, a2))
        case ObjectiveApproved():
            ap = Approval(
                objective_id=event.objective_id,
                catalogue_version=event.catalogue_version,
                org_number=event.org_number,
                approver_hpr=event.approver_hpr,
                leader_hpr=event.leader_hpr,
                delegation_id=event.delegation_id,
                approved_on=event.approved_on,
            )
            # An approval answers any waiting request for that objective.
            requests = dict(state.approval_requests)
            requests.pop(event.objective_id, None)
            return r(state, approvals=(*state.approvals, ap), approval_requests=requests)
        case ApprovalRevoked():
            approvals = tuple(
                r(a, revoked_on=event.revoked_on, revoke_reason=event.reason)
                if a.objective_id == event.objective_id and a.revoked_on is None
                else a
                for a in state.approvals
            )
            return r(state, approvals=approvals)
        case ServiceConfirmationIssued():
            c = Confirmation(
                period_id=event.period_id,
                issued_on=event.issued_on,
                signed_by_hpr=event.signed_by_hpr,
                period=state.periods.get(event.period_id),
                absences=confirmed_absences(state, event.period_id),
            )
            return r(state, confirmations={**state.confirmations, c.period_id: c})
        case SupervisionHoursLogged():
            entry = SupervisionEntry(
                month=event.month, org_number=event.org_number, hours=event.hours
            )
            key = f"{event.month}/{event.org_number}"
            return r(state, supervision_hours={**state.supervision_hours, key: entry})
        case ExceptionGranted():
            x = ExceptionRecord(
                exception_id=event.exception_id,
                kind=event.kind,
                granted_by=event.granted_by,
                granted_on=event.granted_on,
                valid_from=event.valid_from,
                valid_to=event.valid_to,
                granted_by_hpr=event.granted_by_hpr,
                period_id=event.period_id,
                supervisor_hpr=event.supervisor_hpr,
                credit_months=event.credit_months,
                reason=event.reason,
            )
            return r(state, exceptions={**state.exceptions, x.exception_id: x})
        case ExceptionWithdrawn():
            old_x = state.exceptions.get(event.exception_id)
            if old_x is None:
                return state
            gone = r(old_x, withdrawn_on=event.withdrawn_on, withdraw_reason=event.reason)
            return r(state, exceptions={**state.exceptions, gone.exception_id: gone})
        case EducationPlanRecorded():
            if event.org_number in state.plans:
                return state
            return r(state, plans={**state.plans, event.org_number: event.recorded_on})
        case GroupSupervisionAttended():
            g = GroupSession(
                org_number=event.org_number, held_on=event.held_on, minutes=event.minutes
            )
            return r(state, group_sessions=(*state.group_sessions, g))
        case ApprovalRequested():
            request = ApprovalRequest(
                objective_id=event.objective_id,
                org_number=event.org_number,
                requested_on=event.requested_on,
            )
            return r(
                state, approval_requests={**state.approval_requests, event.objective_id: request}
            )
        case ApprovalRequestWithdrawn():
            remaining = dict(state.approval_requests)
            remaining.pop(event.objective_id, None)
            return r(state, approval_requests=remaining)
        case ApprovalRequestReturned():
            old = state.approval_requests.get(event.objective_id)
            if old is None:
                return state
            returned = msgspec.structs.replace(
                old, status="returned", comment=event.comment, returned_on=event.returned_on
            )
            return r(
                state, approval_requests={**state.approval_requests, event.objective_id: returned}
            )
    return state


def confirmed_absences(state: DoctorState, period_id: str) -> tuple[ConfirmedAbsence, ...]:
    """The absences of a period as facts (no ids), in a stable order: what a confirmation
    states and what its staleness is compared against (R7)."""
    return tuple(
        sorted(
            (
                ConfirmedAbsence(kind=a.kind, start=a.start, end=a.end, percent=a.percent)
                for a in state.absences_of(period_id)
            ),
            key=lambda a: (a.start, a.end, a.kind, a.percent),
        )
    )


def fold(state: DoctorState, events: Iterable[DoctorEvent]) -> DoctorState:
    for e in events:
        state = evolve(state, e)
    return state
