"""Commands on a doctor's record: a tagged union dispatched by :mod:`domain.doctor.decide`.

A command asks for a fact, so it carries the fields of the event that records it (the
``...Facts`` of :mod:`events.doctor`), plus what only the asking needs. New ids
(``period_id``, ``absence_id``, ``exception_id``) and dates the server sets come in on the
command: the domain has no clock and draws no ids."""

from __future__ import annotations

from datetime import date

import msgspec

from events import doctor as facts


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="command"):
    """Base of the commands; ``doctor_id`` comes with the facts."""


class RegisterDoctor(
    facts.RegistrationFacts, Command, frozen=True, kw_only=True, tag="register_doctor"
):
    pass


class RecordServicePeriod(
    facts.ServicePeriodFacts, Command, frozen=True, kw_only=True, tag="record_service_period"
):
    pass


class CorrectServicePeriod(
    facts.CorrectionFacts, Command, frozen=True, kw_only=True, tag="correct_service_period"
):
    pass


class RetractServicePeriod(
    facts.PeriodRetractionFacts, Command, frozen=True, kw_only=True, tag="retract_service_period"
):
    pass


class LogAbsence(facts.AbsenceFacts, Command, frozen=True, kw_only=True, tag="log_absence"):
    pass


class RetractAbsence(
    facts.AbsenceRetractionFacts, Command, frozen=True, kw_only=True, tag="retract_absence"
):
    period_id: str | None = None  # where it was logged (the API names it; the handler checks)


class AssignSupervisor(
    facts.SupervisorFacts, Command, frozen=True, kw_only=True, tag="assign_supervisor"
):
    pass


class EndSupervisorAssignment(
    facts.SupervisorEndFacts, Command, frozen=True, kw_only=True, tag="end_supervisor"
):
    pass


class AssessObjective(
    facts.AssessmentFacts, Command, frozen=True, kw_only=True, tag="assess_objective"
):
    pass


class ApproveObjective(Command, frozen=True, kw_only=True, tag="approve_objective"):
    """The event adds who is accountable (leader, delegation) and the catalogue version."""

    doctor_id: str
    objective_id: str
    org_number: str
    approver_hpr: str
    approved_on: date


class RevokeApproval(
    facts.RevocationFacts, Command, frozen=True, kw_only=True, tag="revoke_approval"
):
    pass


class IssueServiceConfirmation(
    facts.ConfirmationFacts, Command, frozen=True, kw_only=True, tag="issue_service_confirmation"
):
    org_number: str  # only the period's employer confirms it (R7)


class LogSupervisionHours(
    facts.SupervisionHoursFacts, Command, frozen=True, kw_only=True, tag="log_supervision_hours"
):
    pass


class GrantException(
    facts.ExceptionFacts, Command, frozen=True, kw_only=True, tag="grant_exception"
):
    pass


class WithdrawException(
    facts.ExceptionWithdrawalFacts, Command, frozen=True, kw_only=True, tag="withdraw_exception"
):
    pass


class RecordEducationPlan(
    facts.PlanFacts, Command, frozen=True, kw_only=True, tag="record_education_plan"
):
    """R17: the employer's individual education plan exists (content: training record)."""


class RecordGroupSupervision(
    facts.GroupSessionFacts, Command, frozen=True, kw_only=True, tag="record_group_supervision"
):
    """R18: one attended group supervision session."""


class RequestApproval(
    facts.RequestFacts, Command, frozen=True, kw_only=True, tag="request_approval"
):
    pass


class WithdrawApprovalRequest(
    facts.WithdrawalFacts, Command, frozen=True, kw_only=True, tag="withdraw_request"
):
    pass


class ReturnApprovalRequest(
    facts.ReturnFacts, Command, frozen=True, kw_only=True, tag="return_request"
):
    pass


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
    | RequestApproval
    | WithdrawApprovalRequest
    | ReturnApprovalRequest
)
