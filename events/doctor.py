"""Events of a doctor's record (stream type ``doctor``, stream id = ``doctor_id``).

Payloads carry internal ids (``doctor_id``, ``period_id``, ...), organisation numbers and
the HPR numbers of professionals acting (leaders, veiledere, assessors). A doctor's name or
national identity number never appears here.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from events.base import Event, registry
from events.vocabulary import (
    AbsenceKind,
    Arena,
    AssessmentOutcome,
    AssessorRole,
    ExceptionKind,
    Part,
    SupervisorRole,
)


class DoctorRegistered(Event, frozen=True, kw_only=True, tag="doctor.registered"):
    doctor_id: str
    authorised_on: date
    registered_on: date


class ServicePeriodRecorded(Event, frozen=True, kw_only=True, tag="doctor.service_period_recorded"):
    """v2. v1 had ``employer`` (now ``org_number``) and ``fte`` as a fraction 0-1 (now
    ``fte_percent``, an integer 1-100); see :mod:`events.upcasters`."""

    schema_version: ClassVar[int] = 2

    doctor_id: str
    period_id: str
    org_number: str
    part: Part
    arena: Arena | None = None
    position: str
    fte_percent: int
    start: date
    end: date | None = None  # inclusive; None = open-ended
    specialty: str | None = None
    open_unselected_gp: bool = False  # R11
    self_created_post: bool = False  # R15 (part 1 only)


class ServicePeriodCorrected(
    Event, frozen=True, kw_only=True, tag="doctor.service_period_corrected"
):
    """Replaces every field of the period; absences and confirmation stay attached."""

    doctor_id: str
    period_id: str
    org_number: str
    part: Part
    arena: Arena | None = None
    position: str
    fte_percent: int
    start: date
    end: date | None = None
    specialty: str | None = None
    open_unselected_gp: bool = False
    self_created_post: bool = False
    reason: str = ""


class ServicePeriodRetracted(
    Event, frozen=True, kw_only=True, tag="doctor.service_period_retracted"
):
    doctor_id: str
    period_id: str
    reason: str = ""


class AbsenceLogged(Event, frozen=True, kw_only=True, tag="doctor.absence_logged"):
    doctor_id: str
    period_id: str
    absence_id: str
    kind: AbsenceKind
    start: date
    end: date  # inclusive
    percent: int = 100  # share of the position absent (graded sick leave)


class AbsenceRetracted(Event, frozen=True, kw_only=True, tag="doctor.absence_retracted"):
    doctor_id: str
    absence_id: str
    reason: str = ""


class SupervisorAssigned(Event, frozen=True, kw_only=True, tag="doctor.supervisor_assigned"):
    """v2 adds ``assignment_id`` (the assignment can be ended, R13); v1 payloads get an id
    derived from their fields (see :mod:`events.upcasters`)."""

    schema_version: ClassVar[int] = 2

    doctor_id: str
    assignment_id: str
    org_number: str
    hpr_number: str
    role: SupervisorRole
    valid_from: date
    part: Part
    specialty: str | None = None
    # R13: what the employer states about the supervisor's qualification.
    specialist_in: str | None = None
    substantial_experience: bool = False
    external_stay: bool = False


class SupervisorAssignmentEnded(
    Event, frozen=True, kw_only=True, tag="doctor.supervisor_assignment_ended"
):
    """The assignment holds up to and including ``valid_to`` (R13, R14)."""

    doctor_id: str
    assignment_id: str
    org_number: str
    valid_to: date


class ObjectiveAssessed(Event, frozen=True, kw_only=True, tag="doctor.objective_assessed"):
    doctor_id: str
    objective_id: str
    catalogue_version: str
    org_number: str
    assessor_hpr: str
    assessor_role: AssessorRole
    outcome: AssessmentOutcome
    assessed_on: date
    method: str | None = None
    comment: str | None = None


class ObjectiveApproved(Event, frozen=True, kw_only=True, tag="doctor.objective_approved"):
    """R5: ``approver_hpr`` acted; ``leader_hpr`` is the accountable leader (the same person
    unless ``delegation_id`` names the delegation used)."""

    doctor_id: str
    objective_id: str
    catalogue_version: str
    org_number: str
    approver_hpr: str
    leader_hpr: str
    delegation_id: str | None = None
    approved_on: date


class ApprovalRevoked(Event, frozen=True, kw_only=True, tag="doctor.approval_revoked"):
    doctor_id: str
    objective_id: str
    org_number: str
    revoked_on: date
    reason: str
    revoked_by_hpr: str | None = None


class ServiceConfirmationIssued(
    Event, frozen=True, kw_only=True, tag="doctor.service_confirmation_issued"
):
    doctor_id: str
    period_id: str
    issued_on: date
    signed_by_hpr: str


class SupervisionHoursLogged(
    Event, frozen=True, kw_only=True, tag="doctor.supervision_hours_logged"
):
    """R12. ``month`` is ``YYYY-MM``; a later entry for the same month replaces it."""

    doctor_id: str
    org_number: str
    month: str
    hours: float


class ExceptionGranted(Event, frozen=True, kw_only=True, tag="doctor.exception_granted"):
    """v2 adds the validity period (``valid_from``, ``valid_to`` inclusive) and, for a §32
    foreign credit, ``credit_months``; v1 payloads are valid from ``granted_on``."""

    schema_version: ClassVar[int] = 2

    doctor_id: str
    exception_id: str
    kind: ExceptionKind
    granted_by: str  # organisation number or "helsedirektoratet"
    granted_on: date
    valid_from: date
    valid_to: date | None = None
    granted_by_hpr: str | None = None
    period_id: str | None = None  # the post/period it concerns, where it concerns one
    supervisor_hpr: str | None = None  # R13 dispensation: for which veileder
    credit_months: int | None = None  # §32 foreign credit: months credited toward R9
    reason: str = ""


class ExceptionWithdrawn(Event, frozen=True, kw_only=True, tag="doctor.exception_withdrawn"):
    """The grantor withdraws an exception or status; it no longer holds from ``withdrawn_on``."""

    doctor_id: str
    exception_id: str
    withdrawn_by: str  # organisation number or "helsedirektoratet"
    withdrawn_on: date
    reason: str
    withdrawn_by_hpr: str | None = None


class EducationPlanRecorded(Event, frozen=True, kw_only=True, tag="doctor.education_plan_recorded"):
    """R17: the employer has made the doctor's individual education plan (the plan's content
    is the training-record issue's; here only that it exists, from when, by whom)."""

    doctor_id: str
    org_number: str
    recorded_on: date
    plan_version: int = 1


class GroupSupervisionAttended(
    Event, frozen=True, kw_only=True, tag="doctor.group_supervision_attended"
):
    """R18: one attended group supervision session (gruppeveiledning)."""

    doctor_id: str
    org_number: str
    held_on: date
    minutes: int


class ApprovalRequested(Event, frozen=True, kw_only=True, tag="doctor.approval_requested"):
    """The doctor asks an institution's leader to approve an objective (API.md)."""

    doctor_id: str
    objective_id: str
    org_number: str
    requested_on: date


class ApprovalRequestWithdrawn(
    Event, frozen=True, kw_only=True, tag="doctor.approval_request_withdrawn"
):
    doctor_id: str
    objective_id: str
    withdrawn_on: date


class ApprovalRequestReturned(
    Event, frozen=True, kw_only=True, tag="doctor.approval_request_returned"
):
    """The leader sends the request back saying what is missing."""

    doctor_id: str
    objective_id: str
    org_number: str
    returned_on: date
    comment: str
    returned_by_hpr: str | None = None


DoctorEvent = (
    DoctorRegistered
    | ServicePeriodRecorded
    | ServicePeriodCorrected
    | ServicePeriodRetracted
    | AbsenceLogged
    | AbsenceRetracted
    | SupervisorAssigned
    | SupervisorAssignmentEnded
    | ObjectiveAssessed
    | ObjectiveApproved
    | ApprovalRevoked
    | ServiceConfirmationIssued
    | SupervisionHoursLogged
    | ExceptionGranted
    | ExceptionWithdrawn
    | EducationPlanRecorded
    | GroupSupervisionAttended
    | ApprovalRequested
    | ApprovalRequestWithdrawn
    | ApprovalRequestReturned
)

DOCTOR_EVENTS: tuple[type[Event], ...] = (
    DoctorRegistered,
    ServicePeriodRecorded,
    ServicePeriodCorrected,
    ServicePeriodRetracted,
    AbsenceLogged,
    AbsenceRetracted,
    SupervisorAssigned,
    SupervisorAssignmentEnded,
    ObjectiveAssessed,
    ObjectiveApproved,
    ApprovalRevoked,
    ServiceConfirmationIssued,
    SupervisionHoursLogged,
    ExceptionGranted,
    ExceptionWithdrawn,
    EducationPlanRecorded,
    GroupSupervisionAttended,
    ApprovalRequested,
    ApprovalRequestWithdrawn,
    ApprovalRequestReturned,
)

for _cls in DOCTOR_EVENTS:
    registry.register(_cls)

__all__ = [
    "DOCTOR_EVENTS",
    "AbsenceLogged",
    "AbsenceRetracted",
    "ApprovalRequestReturned",
    "ApprovalRequestWithdrawn",
    "ApprovalRequested",
    "ApprovalRevoked",
    "DoctorEvent",
    "DoctorRegistered",
    "EducationPlanRecorded",
    "ExceptionGranted",
    "ExceptionWithdrawn",
    "GroupSupervisionAttended",
    "ObjectiveApproved",
    "ObjectiveAssessed",
    "ServiceConfirmationIssued",
    "ServicePeriodCorrected",
    "ServicePeriodRecorded",
    "ServicePeriodRetracted",
    "SupervisionHoursLogged",
    "SupervisorAssigned",
    "SupervisorAssignmentEnded",
]
