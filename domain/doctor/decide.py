"""Decisions on a doctor's record: ``decide(command, state, catalogue=..., organisations=...)``
returns the new events or a :class:`~domain.rejection.Rejection`.

Each command has one small function; ``decide`` dispatches through a ``match`` that ends in
``assert_never``, so mypy refuses a command without its decision. Only what cannot be true
is rejected here. Breaches of the regulation that did happen (R2 sequence, R3 part 1 first,
R11 floor, R13 qualification, R15) are recorded and reported as blockers by
:mod:`domain.blockers`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import assert_never

from domain import lifecycle
from domain.approval import check_approval
from domain.authority import Issuer, authorise
from domain.calendar_days import month_bounds, parse_month
from domain.catalogue import Catalogue
from domain.copying import copy_as
from domain.doctor import commands, requests, training
from domain.doctor.checks import (
    another_institution,
    no_service_at,
    no_service_during,
    no_such_period,
)
from domain.doctor.service_checks import check_absence, check_confirmation, check_period
from domain.doctor.state import DoctorState
from domain.organisation import OrganisationState
from domain.rejection import Rejection, reject
from events import doctor as ev

MAX_HOURS_PER_MONTH = 744.0  # 31 x 24

Decision = list[ev.DoctorEvent] | Rejection


@dataclass(frozen=True)
class Context:
    """Read-only context some decisions need, loaded by the application layer: the
    catalogue (assessments, approvals, requests) and the organisations named by the
    command (approvals)."""

    catalogue: Catalogue | None = None
    organisations: Mapping[str, OrganisationState] = field(default_factory=dict)

    def require_catalogue(self) -> Catalogue:
        if self.catalogue is None:
            raise ValueError("this command needs the catalogue")
        return self.catalogue


def _register(cmd: commands.RegisterDoctor, state: DoctorState, _ctx: Context) -> Decision:
    if state.registered:
        return reject("duplicate", "doctor already registered", field="doctor_id")
    return [copy_as(ev.DoctorRegistered, cmd)]


def _record_period(
    cmd: commands.RecordServicePeriod, state: DoctorState, _ctx: Context
) -> Decision:
    if cmd.period_id in state.periods:
        return reject("duplicate", "period_id exists", field="period_id")
    return check_period(cmd, state) or [copy_as(ev.ServicePeriodRecorded, cmd)]


def _correct_period(
    cmd: commands.CorrectServicePeriod, state: DoctorState, _ctx: Context
) -> Decision:
    return (
        no_such_period(state, cmd.period_id)
        or check_period(cmd, state)
        or [copy_as(ev.ServicePeriodCorrected, cmd)]
    )


def _retract_period(
    cmd: commands.RetractServicePeriod, state: DoctorState, _ctx: Context
) -> Decision:
    return no_such_period(state, cmd.period_id) or [copy_as(ev.ServicePeriodRetracted, cmd)]


def _log_absence(cmd: commands.LogAbsence, state: DoctorState, _ctx: Context) -> Decision:
    return check_absence(cmd, state) or [copy_as(ev.AbsenceLogged, cmd)]


def _retract_absence(cmd: commands.RetractAbsence, state: DoctorState, _ctx: Context) -> Decision:
    if cmd.absence_id not in state.absences:
        return reject("unknown_reference", "no such absence", field="absence_id")
    return [copy_as(ev.AbsenceRetracted, cmd)]


def _assign_supervisor(
    cmd: commands.AssignSupervisor, state: DoctorState, _ctx: Context
) -> Decision:
    # R13 qualification is recorded and flagged, not rejected (see domain.supervision).
    assignment_id = lifecycle.assignment_id_of(cmd)
    if any(s.assignment_id == assignment_id for s in state.supervisors):
        return reject("duplicate", "assignment_id exists", field="assignment_id")
    return [copy_as(ev.SupervisorAssigned, cmd, assignment_id=assignment_id)]


def _assess(cmd: commands.AssessObjective, state: DoctorState, ctx: Context) -> Decision:
    version = ctx.require_catalogue().in_force_with(cmd.objective_id, cmd.assessed_on)
    if version is None:
        return reject(
            "unknown_reference",
            f"objective_id {cmd.objective_id} is not in the catalogue in force",
            field="objective_id",
            rule="R4",
        )
    if (unserved := no_service_at(state, cmd.org_number, "R5")) is not None:
        return unserved
    uncounted = lifecycle.check_assessment(cmd, state, version.objectives[cmd.objective_id])
    if uncounted is not None:
        return uncounted
    if (refused := training.cite(cmd, state)) is not None:
        return refused
    assessed: list[ev.DoctorEvent] = [
        copy_as(ev.ObjectiveAssessed, cmd, catalogue_version=version.version)
    ]
    if cmd.activity_ids:
        assessed.append(copy_as(ev.AssessmentEvidenceCited, cmd))
    return assessed


def _approve(cmd: commands.ApproveObjective, state: DoctorState, ctx: Context) -> Decision:
    checked = check_approval(
        state,
        ctx.require_catalogue(),
        ctx.organisations,
        cmd.objective_id,
        cmd.org_number,
        cmd.approver_hpr,
        cmd.approved_on,
    )
    if isinstance(checked, Rejection):
        return checked
    version_name, auth = checked
    return [
        copy_as(
            ev.ObjectiveApproved,
            cmd,
            catalogue_version=version_name,
            approver_hpr=auth.approver_hpr,
            leader_hpr=auth.leader_hpr,
            delegation_id=auth.delegation_id,
        )
    ]


def _revoke(cmd: commands.RevokeApproval, state: DoctorState, _ctx: Context) -> Decision:
    current = [
        a for a in state.approvals if a.objective_id == cmd.objective_id and a.revoked_on is None
    ]
    if not current:
        return reject("unknown_reference", "objective is not approved", field="objective_id")
    only_approver = "only the institution that approved may revoke (R5)"
    refused = another_institution(current[-1].org_number, cmd.org_number, only_approver, "R5")
    if refused is not None:
        return refused
    if cmd.revoked_on < current[-1].approved_on:
        return reject("invalid_value", "revoked_on is before the approval", field="revoked_on")
    if not cmd.reason.strip():
        return reject("invalid_value", "reason is empty", field="reason")
    return [copy_as(ev.ApprovalRevoked, cmd)]


def _confirm(cmd: commands.IssueServiceConfirmation, state: DoctorState, _ctx: Context) -> Decision:
    return check_confirmation(cmd, state) or [copy_as(ev.ServiceConfirmationIssued, cmd)]


def _log_hours(cmd: commands.LogSupervisionHours, state: DoctorState, _ctx: Context) -> Decision:
    ym = parse_month(cmd.month)
    if ym is None:
        return reject("invalid_value", "month must be YYYY-MM", field="month", rule="R12")
    if not 0 <= cmd.hours <= MAX_HOURS_PER_MONTH:
        return reject("invalid_value", "hours out of range", field="hours", rule="R12")
    first, last = month_bounds(*ym)
    unserved = no_service_during(
        state, cmd.org_number, first, last, "month", "R12", "in that month"
    )
    return unserved or [copy_as(ev.SupervisionHoursLogged, cmd)]


def _grant_exception(cmd: commands.GrantException, state: DoctorState, _ctx: Context) -> Decision:
    if cmd.exception_id in state.exceptions:
        return reject("duplicate", "exception_id exists", field="exception_id")
    if (missing := no_such_period(state, cmd.period_id)) is not None:
        return missing
    if cmd.kind == "veileder_dispensation" and cmd.supervisor_hpr is None:
        return reject(
            "invalid_value",
            "a veileder dispensation names supervisor_hpr (R13)",
            field="supervisor_hpr",
            rule="R13",
        )
    invalid = lifecycle.check_grant(cmd, state)
    if invalid is not None:
        return invalid
    return [copy_as(ev.ExceptionGranted, cmd, valid_from=lifecycle.valid_from_of(cmd))]


def _end_supervisor(
    cmd: commands.EndSupervisorAssignment, state: DoctorState, _ctx: Context
) -> Decision:
    return lifecycle.end_supervisor(cmd, state) or [copy_as(ev.SupervisorAssignmentEnded, cmd)]


def _withdraw_exception(
    cmd: commands.WithdrawException, state: DoctorState, _ctx: Context
) -> Decision:
    return lifecycle.withdraw_exception(cmd, state) or [copy_as(ev.ExceptionWithdrawn, cmd)]


def _record_plan(cmd: commands.RecordEducationPlan, state: DoctorState, ctx: Context) -> Decision:
    """R17: the employer's service first (lifecycle), then the plan's periods (training)."""
    return lifecycle.record_plan(cmd, state) or training.record_plan(cmd, state, ctx)


def _record_group(
    cmd: commands.RecordGroupSupervision, state: DoctorState, _ctx: Context
) -> Decision:
    return lifecycle.record_group_supervision(cmd, state) or [
        copy_as(ev.GroupSupervisionAttended, cmd)
    ]


def _dispatch(cmd: commands.DoctorCommand, s: DoctorState, c: Context) -> Decision:
    """The table: one line per command type; ``assert_never`` makes mypy refuse a command
    without its decision (a flat match, hence the named exception in pyproject.toml)."""
    match cmd:
        case commands.RegisterDoctor():
            return _register(cmd, s, c)
        case commands.RecordServicePeriod():
            return _record_period(cmd, s, c)
        case commands.CorrectServicePeriod():
            return _correct_period(cmd, s, c)
        case commands.RetractServicePeriod():
            return _retract_period(cmd, s, c)
        case commands.LogAbsence():
            return _log_absence(cmd, s, c)
        case commands.RetractAbsence():
            return _retract_absence(cmd, s, c)
        case commands.AssignSupervisor():
            return _assign_supervisor(cmd, s, c)
        case commands.AssessObjective():
            return _assess(cmd, s, c)
        case commands.ApproveObjective():
            return _approve(cmd, s, c)
        case commands.RevokeApproval():
            return _revoke(cmd, s, c)
        case commands.IssueServiceConfirmation():
            return _confirm(cmd, s, c)
        case commands.LogSupervisionHours():
            return _log_hours(cmd, s, c)
        case commands.GrantException():
            return _grant_exception(cmd, s, c)
        case commands.EndSupervisorAssignment():
            return _end_supervisor(cmd, s, c)
        case commands.WithdrawException():
            return _withdraw_exception(cmd, s, c)
        case commands.RecordEducationPlan():
            return _record_plan(cmd, s, c)
        case commands.RecordGroupSupervision():
            return _record_group(cmd, s, c)
        case commands.RequestApproval():
            return requests.request_approval(cmd, s, c)
        case commands.WithdrawApprovalRequest():
            return requests.withdraw_request(cmd, s, c)
        case commands.ReturnApprovalRequest():
            return requests.return_request(cmd, s, c)
        case commands.RecordLearningActivity():
            return training.record_activity(cmd, s, c)
        case commands.SignOffLearningActivity():
            return training.sign_off(cmd, s, c)
        case commands.RecordSupervisionMeeting():
            return training.record_meeting(cmd, s, c)
        case _:
            assert_never(cmd)


def decide(
    command: commands.DoctorCommand,
    state: DoctorState,
    *,
    catalogue: Catalogue | None = None,
    organisations: Mapping[str, OrganisationState] | None = None,
    issuer: Issuer | None = None,
) -> Decision:
    """Decide one command. ``catalogue`` is needed by assessments, approvals and approval
    requests, ``organisations`` (by org number: the institutions named by the command and
    the issuer's own) by approvals and, with an ``issuer``, by service periods (arena and
    kind). Both are read-only context the application layer loads. With an ``issuer`` the
    command is first checked against RULES.md authority (:func:`domain.authority.authorise`);
    the application layer always passes one."""
    if not isinstance(command, commands.RegisterDoctor) and not state.registered:
        return reject("unknown_reference", "doctor not registered", field="doctor_id")
    if issuer is not None:
        refused = authorise(command, issuer, state, organisations or {})
        if refused is not None:
            return refused
    return _dispatch(command, state, Context(catalogue, organisations or {}))
