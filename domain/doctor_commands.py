"""Commands on a doctor's record: a tagged union matched by :func:`domain.doctor_decide.decide`.
New ids (``period_id``, ``absence_id``, ``exception_id``) come in on the command."""

from __future__ import annotations

from datetime import date

import msgspec

from events.vocabulary import (
    AbsenceKind,
    Arena,
    AssessmentOutcome,
    AssessorRole,
    ExceptionKind,
    Part,
    SupervisorRole,
)


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="command"):
    doctor_id: str


class RegisterDoctor(Command, frozen=True, kw_only=True, tag="register_doctor"):
    authorised_on: date
    registered_on: date


class RecordServicePeriod(Command, frozen=True, kw_only=True, tag="record_service_period"):
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


class CorrectServicePeriod(Command, frozen=True, kw_only=True, tag="correct_service_period"):
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


class RetractServicePeriod(Command, frozen=True, kw_only=True, tag="retract_service_period"):
    period_id: str
    reason: str = ""


class LogAbsence(Command, frozen=True, kw_only=True, tag="log_absence"):
    period_id: str
    absence_id: str
    kind: AbsenceKind
    start: date
    end: date
    percent: int = 100


class RetractAbsence(Command, frozen=True, kw_only=True, tag="retract_absence"):
    absence_id: str
    reason: str = ""


class AssignSupervisor(Command, frozen=True, kw_only=True, tag="assign_supervisor"):
    org_number: str
    assignment_id: str = ""  # empty: derived from the fields (domain.lifecycle)
    hpr_number: str
    role: SupervisorRole
    valid_from: date
    part: Part
    specialty: str | None = None
    specialist_in: str | None = None
    substantial_experience: bool = False
    external_stay: bool = False


class EndSupervisorAssignment(Command, frozen=True, kw_only=True, tag="end_supervisor"):
    """R13/R14: the assignment holds up to and including ``valid_to``."""

    assignment_id: str
    org_number: str
    valid_to: date


class AssessObjective(Command, frozen=True, kw_only=True, tag="assess_objective"):
    objective_id: str
    org_number: str
    assessor_hpr: str
    assessor_role: AssessorRole
    outcome: AssessmentOutcome
    assessed_on: date
    method: str | None = None
    comment: str | None = None


class ApproveObjective(Command, frozen=True, kw_only=True, tag="approve_objective"):
    objective_id: str
    org_number: str
    approver_hpr: str
    approved_on: date


class RevokeApproval(Command, frozen=True, kw_only=True, tag="revoke_approval"):
    objective_id: str
    org_number: str
    revoked_on: date
    reason: str
    revoked_by_hpr: str | None = None


class IssueServiceConfirmation(
    Command, frozen=True, kw_only=True, tag="issue_service_confirmation"
):
    period_id: str
    org_number: str
    issued_on: date
    signed_by_hpr: str


class LogSupervisionHours(Command, frozen=True, kw_only=True, tag="log_supervision_hours"):
    org_number: str
    month: str
    hours: float


class GrantException(Command, frozen=True, kw_only=True, tag="grant_exception"):
    exception_id: str
    kind: ExceptionKind
    granted_by: str
    granted_on: date
    valid_from: date | None = None  # None: from granted_on
    valid_to: date | None = None
    granted_by_hpr: str | None = None
    period_id: str | None = None
    supervisor_hpr: str | None = None
    credit_months: int | None = None  # foreign_credit (§32)
    reason: str = ""


class WithdrawException(Command, frozen=True, kw_only=True, tag="withdraw_exception"):
    exception_id: str
    withdrawn_by: str  # organisation number or "helsedirektoratet"
    withdrawn_on: date
    reason: str
    withdrawn_by_hpr: str | None = None


class RecordEducationPlan(Command, frozen=True, kw_only=True, tag="record_education_plan"):
    """R17: the employer's individual education plan exists (content: training record)."""

    org_number: str
    recorded_on: date


class RecordGroupSupervision(Command, frozen=True, kw_only=True, tag="record_group_supervision"):
    """R18: one attended group supervision session."""

    org_number: str
    held_on: date
    minutes: int


DoctorCommand = (
    RegisterDoctor
    | RecordServicePeriod
    | CorrectServicePeriod
    | RetractServicePeriod
    | LogAbsence
    | RetractAbsence
    | AssignSupervisor
    | AssessObjective
    | ApproveObjective
    | RevokeApproval
    | IssueServiceConfirmation
    | LogSupervisionHours
    | GrantException
    | EndSupervisorAssignment
    | WithdrawException
    | RecordEducationPlan
    | RecordGroupSupervision
)
