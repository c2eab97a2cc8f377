"""Events of a doctor's record (stream type ``doctor``, stream id = ``doctor_id``).

Payloads carry internal ids (``doctor_id``, ``period_id``, ...), organisation numbers and
the HPR numbers of professionals acting (leaders, veiledere, assessors). A doctor's name or
national identity number never appears here.

Each fact is a plain Struct (``...Facts``): the event records it, and the command that asks
for it (``domain.doctor.commands``) carries the same fields, so a field list is written once.
The facts are not events themselves and are not registered.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from events.base import Event, register_union
from events.record import Facts, ObjectiveFacts
from events.training import AssessmentEvidenceCited as AssessmentEvidenceCited
from events.training import EducationPlanRecorded as EducationPlanRecorded
from events.training import LearningActivityRecorded as LearningActivityRecorded
from events.training import LearningActivitySignedOff as LearningActivitySignedOff
from events.training import SupervisionMeetingHeld as SupervisionMeetingHeld
from events.vocabulary import (
    AbsenceKind,
    Arena,
    AssessmentOutcome,
    AssessorRole,
    ExceptionKind,
    Part,
    SupervisorRole,
)


class RegistrationFacts(Facts, frozen=True, kw_only=True):
    authorised_on: date
    registered_on: date


class ServicePeriodFacts(Facts, frozen=True, kw_only=True):
    """The facts of a service period, shared by its recording and its correction."""

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


class CorrectionFacts(ServicePeriodFacts, frozen=True, kw_only=True):
    reason: str = ""


class PeriodRetractionFacts(Facts, frozen=True, kw_only=True):
    period_id: str
    reason: str = ""


class AbsenceFacts(Facts, frozen=True, kw_only=True):
    period_id: str
    absence_id: str
    kind: AbsenceKind
    start: date
    end: date  # inclusive
    percent: int = 100  # share of the position absent (graded sick leave)


class AbsenceRetractionFacts(Facts, frozen=True, kw_only=True):
    absence_id: str
    reason: str = ""


class SupervisorFacts(Facts, frozen=True, kw_only=True):
    # R13: the assignment can be ended by its id; a command without one gets an id derived
    # from its fields (domain.lifecycle.assignment_id_of), the event always carries it.
    assignment_id: str = ""
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


class SupervisorEndFacts(Facts, frozen=True, kw_only=True):
    """The assignment holds up to and including ``valid_to`` (R13, R14)."""

    assignment_id: str
    org_number: str
    valid_to: date


class AssessmentFacts(ObjectiveFacts, frozen=True, kw_only=True):
    assessor_hpr: str
    assessor_role: AssessorRole
    outcome: AssessmentOutcome
    assessed_on: date
    method: str | None = None
    comment: str | None = None


class RevocationFacts(ObjectiveFacts, frozen=True, kw_only=True):
    revoked_on: date
    reason: str
    revoked_by_hpr: str | None = None


class ConfirmationFacts(Facts, frozen=True, kw_only=True):
    period_id: str
    issued_on: date
    signed_by_hpr: str


class SupervisionHoursFacts(Facts, frozen=True, kw_only=True):
    """R12. ``month`` is ``YYYY-MM``; a later entry for the same month replaces it."""

    org_number: str
    month: str
    hours: float


class ExceptionFacts(Facts, frozen=True, kw_only=True):
    exception_id: str
    kind: ExceptionKind
    granted_by: str  # organisation number or "helsedirektoratet"
    granted_on: date
    # The validity period (inclusive); the event always carries valid_from (the command's
    # default is granted_on).
    valid_from: date | None = None
    valid_to: date | None = None
    granted_by_hpr: str | None = None
    period_id: str | None = None  # the post/period it concerns, where it concerns one
    supervisor_hpr: str | None = None  # R13 dispensation: for which veileder
    credit_months: int | None = None  # §32 foreign credit: months credited toward R9
    reason: str = ""


class ExceptionWithdrawalFacts(Facts, frozen=True, kw_only=True):
    """The grantor withdraws an exception or status; it no longer holds from
    ``withdrawn_on``."""

    exception_id: str
    withdrawn_by: str  # organisation number or "helsedirektoratet"
    withdrawn_on: date
    reason: str
    withdrawn_by_hpr: str | None = None


class GroupSessionFacts(Facts, frozen=True, kw_only=True):
    """R18: one attended group supervision session (gruppeveiledning)."""

    org_number: str
    held_on: date
    minutes: int


class RequestFacts(ObjectiveFacts, frozen=True, kw_only=True):
    """The doctor asks an institution's leader to approve an objective (API.md)."""

    requested_on: date


class WithdrawalFacts(Facts, frozen=True, kw_only=True):
    objective_id: str
    withdrawn_on: date


class ReturnFacts(ObjectiveFacts, frozen=True, kw_only=True):
    """The leader sends the request back saying what is missing."""

    returned_on: date
    comment: str
    returned_by_hpr: str | None = None


# The events: a fact, recorded. ---------------------------------------------------------
class DoctorRegistered(
    RegistrationFacts, Event, frozen=True, kw_only=True, tag="doctor.registered"
):
    pass


class ServicePeriodRecorded(
    ServicePeriodFacts, Event, frozen=True, kw_only=True, tag="doctor.service_period_recorded"
):
    """v2. v1 had ``employer`` (now ``org_number``) and ``fte`` as a fraction 0-1 (now
    ``fte_percent``, an integer 1-100); see :mod:`events.upcasters`."""

    schema_version: ClassVar[int] = 2


class ServicePeriodCorrected(
    CorrectionFacts, Event, frozen=True, kw_only=True, tag="doctor.service_period_corrected"
):
    """Replaces every field of the period; absences and confirmation stay attached."""


class ServicePeriodRetracted(
    PeriodRetractionFacts, Event, frozen=True, kw_only=True, tag="doctor.service_period_retracted"
):
    pass


class AbsenceLogged(AbsenceFacts, Event, frozen=True, kw_only=True, tag="doctor.absence_logged"):
    pass


class AbsenceRetracted(
    AbsenceRetractionFacts, Event, frozen=True, kw_only=True, tag="doctor.absence_retracted"
):
    pass


class SupervisorAssigned(
    SupervisorFacts, Event, frozen=True, kw_only=True, tag="doctor.supervisor_assigned"
):
    """v2 adds ``assignment_id`` (the assignment can be ended, R13); v1 payloads get an id
    derived from their fields (see :mod:`events.upcasters`)."""

    schema_version: ClassVar[int] = 2


class SupervisorAssignmentEnded(
    SupervisorEndFacts, Event, frozen=True, kw_only=True, tag="doctor.supervisor_assignment_ended"
):
    pass


class ObjectiveAssessed(
    AssessmentFacts, Event, frozen=True, kw_only=True, tag="doctor.objective_assessed"
):
    catalogue_version: str  # the version in force on assessed_on, set by the decision


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


class ApprovalRevoked(
    RevocationFacts, Event, frozen=True, kw_only=True, tag="doctor.approval_revoked"
):
    pass


class ServiceConfirmationIssued(
    ConfirmationFacts, Event, frozen=True, kw_only=True, tag="doctor.service_confirmation_issued"
):
    pass


class SupervisionHoursLogged(
    SupervisionHoursFacts, Event, frozen=True, kw_only=True, tag="doctor.supervision_hours_logged"
):
    pass


class ExceptionGranted(
    ExceptionFacts, Event, frozen=True, kw_only=True, tag="doctor.exception_granted"
):
    """v2 adds the validity period (``valid_from``, ``valid_to``) and, for a §32 foreign
    credit, ``credit_months``; v1 payloads are valid from ``granted_on``."""

    schema_version: ClassVar[int] = 2


class ExceptionWithdrawn(
    ExceptionWithdrawalFacts, Event, frozen=True, kw_only=True, tag="doctor.exception_withdrawn"
):
    pass


class GroupSupervisionAttended(
    GroupSessionFacts, Event, frozen=True, kw_only=True, tag="doctor.group_supervision_attended"
):
    pass


class ApprovalRequested(
    RequestFacts, Event, frozen=True, kw_only=True, tag="doctor.approval_requested"
):
    pass


class ApprovalRequestWithdrawn(
    WithdrawalFacts, Event, frozen=True, kw_only=True, tag="doctor.approval_request_withdrawn"
):
    pass


class ApprovalRequestReturned(
    ReturnFacts, Event, frozen=True, kw_only=True, tag="doctor.approval_request_returned"
):
    pass


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
    | GroupSupervisionAttended
    | ApprovalRequested
    | ApprovalRequestWithdrawn
    | ApprovalRequestReturned
    | LearningActivityRecorded
    | LearningActivitySignedOff
    | AssessmentEvidenceCited
    | SupervisionMeetingHeld
    | EducationPlanRecorded
)

# The one list of a doctor's event types: the registry and every tuple derive from it.
DOCTOR_EVENTS = register_union(DoctorEvent)
