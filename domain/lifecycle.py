"""The lifecycle of facts on a doctor's record: checks that hook into
:func:`domain.doctor.decide.decide`, and the decisions of the commands that end or withdraw
something (a supervisor assignment, an exception) or add R17/R18 facts.

Each function is small and pure: (command, state) -> the rejection, or None when the
decision may record the command's facts."""

from __future__ import annotations

from datetime import date

from domain.assessment_rules import assessment_problem, in_doctors_path
from domain.doctor.checks import another_institution, no_service_at, no_service_during
from domain.doctor.commands import (
    AssessObjective,
    AssignSupervisor,
    EndSupervisorAssignment,
    GrantException,
    RecordEducationPlan,
    RecordGroupSupervision,
    WithdrawException,
)
from domain.doctor.state import DoctorState
from domain.rejection import Rejection, reject
from domain.statuses import TIME_LIMITED
from events.catalogue import ObjectiveSpec

MAX_CREDIT_MONTHS = 78  # §32: never more than the whole R9 minimum
MAX_SESSION_MINUTES = 24 * 60


def check_assessment(
    cmd: AssessObjective, state: DoctorState, objective: ObjectiveSpec
) -> Rejection | None:
    """R5: an assessment that could never count toward an approval is refused."""
    if not in_doctors_path(state, objective, cmd.assessed_on):
        return reject(
            "rule_violation",
            f"objective {objective.id} is not in the doctor's path: no part-2/3 service in "
            f"{objective.specialty or 'parts 2-3'} (R5)",
            field="objective_id",
            rule="R5",
        )
    problem = assessment_problem(
        state,
        org_number=cmd.org_number,
        assessor_hpr=cmd.assessor_hpr,
        assessor_role=cmd.assessor_role,
        assessed_on=cmd.assessed_on,
    )
    if problem is not None:
        field = "assessed_on" if problem.startswith("assessed_on") else "assessor_hpr"
        return reject("rule_violation", f"{problem} (R5)", field=field, rule="R5")
    return None


def assignment_id_of(cmd: AssignSupervisor) -> str:
    """The command's id, or one derived from the assignment's own fields."""
    if cmd.assignment_id:
        return cmd.assignment_id
    role = "v" if cmd.role == "veileder" else "s"
    return f"{cmd.org_number}-{cmd.hpr_number}-{role}-{cmd.valid_from.isoformat()}"


def check_grant(cmd: GrantException, state: DoctorState) -> Rejection | None:
    """Validity period and kind-specific fields of an exception or status."""
    valid_from = cmd.valid_from or cmd.granted_on
    if cmd.valid_to is not None and cmd.valid_to < valid_from:
        return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
    if cmd.kind in TIME_LIMITED and cmd.valid_to is None:
        return reject(
            "invalid_value",
            "a veileder dispensation is time-limited ('tidsavgrenset'): valid_to is required (R13)",
            field="valid_to",
            rule="R13",
        )
    if cmd.kind == "foreign_credit" and not (
        cmd.credit_months is not None and 1 <= cmd.credit_months <= MAX_CREDIT_MONTHS
    ):
        return reject(
            "invalid_value",
            f"a foreign credit (§32) states credit_months, 1-{MAX_CREDIT_MONTHS} (R9)",
            field="credit_months",
            rule="R9",
        )
    if cmd.kind != "foreign_credit" and cmd.credit_months is not None:
        return reject(
            "invalid_value", "credit_months belongs to foreign_credit only", field="credit_months"
        )
    return None


def end_supervisor(cmd: EndSupervisorAssignment, state: DoctorState) -> Rejection | None:
    found = next((s for s in state.supervisors if s.assignment_id == cmd.assignment_id), None)
    if found is None:
        return reject("unknown_reference", "no such assignment", field="assignment_id")
    only_assigner = "only the institution that assigned ends the assignment (R14)"
    refused = another_institution(found.org_number, cmd.org_number, only_assigner, "R14")
    if refused is not None:
        return refused
    if found.valid_to is not None:
        return reject("duplicate", "the assignment has ended already", field="assignment_id")
    if cmd.valid_to < found.valid_from:
        return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
    return None


def withdraw_exception(cmd: WithdrawException, state: DoctorState) -> Rejection | None:
    x = state.exceptions.get(cmd.exception_id)
    if x is None:
        return reject("unknown_reference", "no such exception", field="exception_id")
    if x.withdrawn_on is not None:
        return reject("duplicate", "the exception is withdrawn already", field="exception_id")
    if x.granted_by != cmd.withdrawn_by:
        return reject(
            "rule_violation", "only the grantor withdraws an exception", field="exception_id"
        )
    if not cmd.reason.strip():
        return reject("invalid_value", "reason is empty", field="reason")
    return None


def record_plan(cmd: RecordEducationPlan, state: DoctorState) -> Rejection | None:
    return no_service_at(state, cmd.org_number, "R17")


def record_group_supervision(cmd: RecordGroupSupervision, state: DoctorState) -> Rejection | None:
    if not 1 <= cmd.minutes <= MAX_SESSION_MINUTES:
        return reject("invalid_value", "minutes out of range", field="minutes", rule="R18")
    on = cmd.held_on
    return no_service_during(state, cmd.org_number, on, on, "held_on", "R18", "on held_on")


def valid_from_of(cmd: GrantException) -> date:
    return cmd.valid_from or cmd.granted_on
