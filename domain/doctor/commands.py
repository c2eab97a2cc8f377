"""Commands on a doctor's record: a tagged union dispatched by :mod:`domain.doctor.decide`.

A command asks for a fact, so it carries the fields of the event that records it (the
``...Facts`` of :mod:`events.doctor`), plus what only the asking needs. New ids
(``period_id``, ``absence_id``, ``exception_id``) and dates the server sets come in on the
command: the domain has no clock and draws no ids.

Each command also says who may issue it (``issued_by``, RULES.md "Who may record what"),
checked by :func:`domain.authority.authorise` before anything is decided. A command without
one is refused for everyone."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

import msgspec

from domain import authority as who
from events import doctor as facts
from events import training


class Command(msgspec.Struct, frozen=True, kw_only=True, tag_field="command"):
    """Base of the commands; ``doctor_id`` comes with the facts."""

    issued_by: ClassVar[who.Entitlement]


class RegisterDoctor(
    facts.RegistrationFacts, Command, frozen=True, kw_only=True, tag="register_doctor"
):
    issued_by = who.registrar


class RecordServicePeriod(
    facts.ServicePeriodFacts, Command, frozen=True, kw_only=True, tag="record_service_period"
):
    issued_by = who.service_employer


class CorrectServicePeriod(
    facts.CorrectionFacts, Command, frozen=True, kw_only=True, tag="correct_service_period"
):
    issued_by = who.correcting_employer


class RetractServicePeriod(
    facts.PeriodRetractionFacts, Command, frozen=True, kw_only=True, tag="retract_service_period"
):
    issued_by = who.period_employer("R7")


class LogAbsence(facts.AbsenceFacts, Command, frozen=True, kw_only=True, tag="log_absence"):
    issued_by = who.period_employer("R8")


class RetractAbsence(
    facts.AbsenceRetractionFacts, Command, frozen=True, kw_only=True, tag="retract_absence"
):
    period_id: str | None = None  # where it was logged (the API names it; the handler checks)
    issued_by = who.absence_employer


class AssignSupervisor(
    facts.SupervisorFacts, Command, frozen=True, kw_only=True, tag="assign_supervisor"
):
    issued_by = who.employer("R14")  # it may appoint before the service is recorded


class EndSupervisorAssignment(
    facts.SupervisorEndFacts, Command, frozen=True, kw_only=True, tag="end_supervisor"
):
    issued_by = who.supervisor_employer


class AssessObjective(
    facts.AssessmentFacts, Command, frozen=True, kw_only=True, tag="assess_objective"
):
    activity_ids: tuple[str, ...] = ()  # the learning activities it rests on (cited)
    issued_by = who.employer("R5")


class ApproveObjective(Command, frozen=True, kw_only=True, tag="approve_objective"):
    """The event adds who is accountable (leader, delegation) and the catalogue version."""

    doctor_id: str
    objective_id: str
    org_number: str
    approver_hpr: str
    approved_on: date
    issued_by = who.employer("R5")


class RevokeApproval(
    facts.RevocationFacts, Command, frozen=True, kw_only=True, tag="revoke_approval"
):
    issued_by = who.employer("R5")


class IssueServiceConfirmation(
    facts.ConfirmationFacts, Command, frozen=True, kw_only=True, tag="issue_service_confirmation"
):
    org_number: str  # only the period's employer confirms it (R7)
    issued_by = who.period_employer("R7")


class LogSupervisionHours(
    facts.SupervisionHoursFacts, Command, frozen=True, kw_only=True, tag="log_supervision_hours"
):
    issued_by = who.employer("R12")


class GrantException(
    facts.ExceptionFacts, Command, frozen=True, kw_only=True, tag="grant_exception"
):
    issued_by = who.grantor


class WithdrawException(
    facts.ExceptionWithdrawalFacts, Command, frozen=True, kw_only=True, tag="withdraw_exception"
):
    issued_by = who.withdrawing_grantor


class RecordGroupSupervision(
    facts.GroupSessionFacts, Command, frozen=True, kw_only=True, tag="record_group_supervision"
):
    """R18: one attended group supervision session."""

    issued_by = who.employer("R18")


class RequestApproval(
    facts.RequestFacts, Command, frozen=True, kw_only=True, tag="request_approval"
):
    issued_by = who.the_doctor


class WithdrawApprovalRequest(
    facts.WithdrawalFacts, Command, frozen=True, kw_only=True, tag="withdraw_request"
):
    issued_by = who.the_doctor


class ReturnApprovalRequest(
    facts.ReturnFacts, Command, frozen=True, kw_only=True, tag="return_request"
):
    issued_by = who.employer("R5")


class RecordLearningActivity(
    training.ActivityFacts, Command, frozen=True, kw_only=True, tag="record_learning_activity"
):
    issued_by = who.doctor_or_employer


class SignOffLearningActivity(
    training.SignOffFacts, Command, frozen=True, kw_only=True, tag="sign_off_learning_activity"
):
    issued_by = who.employer("R5")


class RecordSupervisionMeeting(
    training.MeetingFacts, Command, frozen=True, kw_only=True, tag="record_supervision_meeting"
):
    org_number: str | None = None  # the employer recording it; None when the doctor does
    issued_by = who.doctor_or_employer


class RecordEducationPlan(
    training.PlanFacts, Command, frozen=True, kw_only=True, tag="record_education_plan"
):
    """R17: the decision numbers the new ``plan_version``."""

    issued_by = who.plan_employer


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
    | RecordGroupSupervision
    | RequestApproval
    | WithdrawApprovalRequest
    | ReturnApprovalRequest
    | RecordLearningActivity
    | SignOffLearningActivity
    | RecordSupervisionMeeting
    | RecordEducationPlan
)
