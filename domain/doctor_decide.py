"""Decisions on a doctor's record: ``decide(command, state, catalogue=..., organisations=...)``
returns the new events or a :class:`~domain.rejection.Rejection`.

Only what cannot be true is rejected here. Breaches of the regulation that did happen (R2
sequence, R3 part 1 first, R11 floor, R13 qualification, R15) are recorded and reported as
blockers by :mod:`domain.blockers`."""

from __future__ import annotations

from collections.abc import Mapping

from domain import lifecycle
from domain.approval import check_approval
from domain.authority import Issuer, authorise
from domain.calendar_days import month_bounds, overlap, parse_month
from domain.catalogue import Catalogue
from domain.doctor_commands import (
    ApproveObjective,
    AssessObjective,
    AssignSupervisor,
    CorrectServicePeriod,
    DoctorCommand,
    EndSupervisorAssignment,
    GrantException,
    IssueServiceConfirmation,
    LogAbsence,
    LogSupervisionHours,
    RecordEducationPlan,
    RecordGroupSupervision,
    RecordServicePeriod,
    RegisterDoctor,
    RetractAbsence,
    RetractServicePeriod,
    RevokeApproval,
    WithdrawException,
)
from domain.doctor_state import DoctorState
from domain.organisation import OrganisationState
from domain.rejection import Rejection, reject
from domain.service_time import max_load
from events.doctor import (
    AbsenceLogged,
    AbsenceRetracted,
    ApprovalRevoked,
    DoctorEvent,
    DoctorRegistered,
    ExceptionGranted,
    ObjectiveApproved,
    ObjectiveAssessed,
    ServiceConfirmationIssued,
    ServicePeriodCorrected,
    ServicePeriodRecorded,
    ServicePeriodRetracted,
    SupervisionHoursLogged,
    SupervisorAssigned,
)

MAX_HOURS_PER_MONTH = 744.0  # 31 x 24

Decision = list[DoctorEvent] | Rejection


def _check_period(
    cmd: RecordServicePeriod | CorrectServicePeriod, state: DoctorState
) -> Rejection | None:
    if not 1 <= cmd.fte_percent <= 100:
        return reject("invalid_value", "fte_percent must be 1-100", field="fte_percent", rule="R10")
    if cmd.end is not None and cmd.end < cmd.start:
        return reject("invalid_value", "end is before start", field="end")
    if cmd.part == 1 and cmd.arena is None:
        return reject(
            "invalid_value",
            "a part-1 period needs arena hospital or municipal",
            field="arena",
            rule="R1",
        )
    if cmd.self_created_post and cmd.part != 1:
        return reject(
            "invalid_value",
            "self_created_post applies to part-1 (LIS1) posts only (R15)",
            field="self_created_post",
            rule="R15",
        )
    if not cmd.position.strip():
        return reject("invalid_value", "position is empty", field="position")
    anchored = lifecycle.check_period_anchors(cmd)
    if anchored is not None:
        return anchored
    # R10: simultaneous positions may not add up past 100 % (two 50 % positions are fine).
    others = [
        (p.start, p.end, p.fte_percent)
        for p in state.periods.values()
        if p.period_id != cmd.period_id
        and overlap(p.start, p.end or cmd.start.max, cmd.start, cmd.end or cmd.start.max)
    ]
    if max_load([*others, (cmd.start, cmd.end, cmd.fte_percent)]) > 100:
        return reject(
            "rule_violation",
            "overlapping service periods would add up to more than 100 % FTE (R10)",
            field="fte_percent",
            rule="R10",
        )
    # Absences already recorded must stay inside a corrected period.
    for a in state.absences_of(cmd.period_id):
        if a.start < cmd.start or (cmd.end is not None and a.end > cmd.end):
            return reject(
                "rule_violation",
                f"absence {a.absence_id} would fall outside the period (R8)",
                field="end" if cmd.end is not None and a.end > cmd.end else "start",
                rule="R8",
            )
    return None


def decide(
    command: DoctorCommand,
    state: DoctorState,
    *,
    catalogue: Catalogue | None = None,
    organisations: Mapping[str, OrganisationState] | None = None,
    issuer: Issuer | None = None,
) -> Decision:
    """Decide one command. ``catalogue`` is needed by assessments and approvals,
    ``organisations`` (by org number: the institutions named by the command) by approvals
    and, with an ``issuer``, by service periods (arena and kind). Both are read-only context
    the service layer loads. With an ``issuer`` the command is first checked against
    RULES.md authority (:func:`domain.authority.authorise`); the service layer always
    passes one."""
    if not isinstance(command, RegisterDoctor) and not state.registered:
        return reject("unknown_reference", "doctor not registered", field="doctor_id")
    if issuer is not None:
        refused = authorise(command, issuer, state, organisations or {})
        if refused is not None:
            return refused
    d = command.doctor_id
    match command:
        case RegisterDoctor():
            if state.registered:
                return reject("duplicate", "doctor already registered", field="doctor_id")
            return [
                DoctorRegistered(
                    doctor_id=d,
                    authorised_on=command.authorised_on,
                    registered_on=command.registered_on,
                )
            ]
        case RecordServicePeriod():
            if command.period_id in state.periods:
                return reject("duplicate", "period_id exists", field="period_id")
            bad = _check_period(command, state)
            if bad is not None:
                return bad
            return [
                ServicePeriodRecorded(
                    doctor_id=d,
                    period_id=command.period_id,
                    org_number=command.org_number,
                    part=command.part,
                    arena=command.arena,
                    position=command.position,
                    fte_percent=command.fte_percent,
                    start=command.start,
                    end=command.end,
                    specialty=command.specialty,
                    open_unselected_gp=command.open_unselected_gp,
                    self_created_post=command.self_created_post,
                )
            ]
        case CorrectServicePeriod():
            if command.period_id not in state.periods:
                return reject("unknown_reference", "no such period", field="period_id")
            bad = _check_period(command, state)
            if bad is not None:
                return bad
            return [
                ServicePeriodCorrected(
                    doctor_id=d,
                    period_id=command.period_id,
                    org_number=command.org_number,
                    part=command.part,
                    arena=command.arena,
                    position=command.position,
                    fte_percent=command.fte_percent,
                    start=command.start,
                    end=command.end,
                    specialty=command.specialty,
                    open_unselected_gp=command.open_unselected_gp,
                    self_created_post=command.self_created_post,
                    reason=command.reason,
                )
            ]
        case RetractServicePeriod():
            if command.period_id not in state.periods:
                return reject("unknown_reference", "no such period", field="period_id")
            return [
                ServicePeriodRetracted(
                    doctor_id=d, period_id=command.period_id, reason=command.reason
                )
            ]
        case LogAbsence():
            period = state.periods.get(command.period_id)
            if period is None:
                return reject("unknown_reference", "no such period", field="period_id")
            if command.absence_id in state.absences:
                return reject("duplicate", "absence_id exists", field="absence_id")
            if command.end < command.start:
                return reject("invalid_value", "end is before start", field="end")
            if not 1 <= command.percent <= 100:
                return reject("invalid_value", "percent must be 1-100", field="percent")
            if command.start < period.start:
                return reject(
                    "rule_violation",
                    "absence starts before its service period (R8)",
                    field="start",
                    rule="R8",
                )
            if period.end is not None and command.end > period.end:
                return reject(
                    "rule_violation",
                    "absence ends after its service period (R8)",
                    field="end",
                    rule="R8",
                )
            load = max_load(
                [(a.start, a.end, a.percent) for a in state.absences_of(period.period_id)]
                + [(command.start, command.end, command.percent)]
            )
            if load > 100:
                return reject(
                    "rule_violation",
                    "overlapping absences would exceed 100 % of the position (R8)",
                    field="percent",
                    rule="R8",
                )
            return [
                AbsenceLogged(
                    doctor_id=d,
                    period_id=command.period_id,
                    absence_id=command.absence_id,
                    kind=command.kind,
                    start=command.start,
                    end=command.end,
                    percent=command.percent,
                )
            ]
        case RetractAbsence():
            if command.absence_id not in state.absences:
                return reject("unknown_reference", "no such absence", field="absence_id")
            return [
                AbsenceRetracted(doctor_id=d, absence_id=command.absence_id, reason=command.reason)
            ]
        case AssignSupervisor():
            # R13 qualification is recorded and flagged, not rejected (see domain.supervision).
            assignment_id = lifecycle.assignment_id_of(command)
            if any(s.assignment_id == assignment_id for s in state.supervisors):
                return reject("duplicate", "assignment_id exists", field="assignment_id")
            return [
                SupervisorAssigned(
                    doctor_id=d,
                    assignment_id=assignment_id,
                    org_number=command.org_number,
                    hpr_number=command.hpr_number,
                    role=command.role,
                    valid_from=command.valid_from,
                    part=command.part,
                    specialty=command.specialty,
                    specialist_in=command.specialist_in,
                    substantial_experience=command.substantial_experience,
                    external_stay=command.external_stay,
                )
            ]
        case AssessObjective():
            if catalogue is None:
                raise ValueError("AssessObjective needs the catalogue")
            version = catalogue.version_on(command.assessed_on)
            if version is None or command.objective_id not in version.objectives:
                return reject(
                    "unknown_reference",
                    f"objective_id {command.objective_id} is not in the catalogue in force",
                    field="objective_id",
                    rule="R4",
                )
            if not any(p.org_number == command.org_number for p in state.periods.values()):
                return reject(
                    "rule_violation",
                    "the doctor has no service at this institution (R5)",
                    field="org_number",
                    rule="R5",
                )
            uncounted = lifecycle.check_assessment(
                command, state, version.objectives[command.objective_id]
            )
            if uncounted is not None:
                return uncounted
            return [
                ObjectiveAssessed(
                    doctor_id=d,
                    objective_id=command.objective_id,
                    catalogue_version=version.version,
                    org_number=command.org_number,
                    assessor_hpr=command.assessor_hpr,
                    assessor_role=command.assessor_role,
                    outcome=command.outcome,
                    assessed_on=command.assessed_on,
                    method=command.method,
                    comment=command.comment,
                )
            ]
        case ApproveObjective():
            if catalogue is None or organisations is None:
                raise ValueError("ApproveObjective needs the catalogue and the organisations")
            checked = check_approval(
                state,
                catalogue,
                organisations,
                command.objective_id,
                command.org_number,
                command.approver_hpr,
                command.approved_on,
            )
            if isinstance(checked, Rejection):
                return checked
            version_name, auth = checked
            return [
                ObjectiveApproved(
                    doctor_id=d,
                    objective_id=command.objective_id,
                    catalogue_version=version_name,
                    org_number=command.org_number,
                    approver_hpr=auth.approver_hpr,
                    leader_hpr=auth.leader_hpr,
                    delegation_id=auth.delegation_id,
                    approved_on=command.approved_on,
                )
            ]
        case RevokeApproval():
            current = [
                a
                for a in state.approvals
                if a.objective_id == command.objective_id and a.revoked_on is None
            ]
            if not current:
                return reject(
                    "unknown_reference", "objective is not approved", field="objective_id"
                )
            if current[-1].org_number != command.org_number:
                return reject(
                    "rule_violation",
                    "only the institution that approved may revoke (R5)",
                    field="org_number",
                    rule="R5",
                )
            if command.revoked_on < current[-1].approved_on:
                return reject(
                    "invalid_value", "revoked_on is before the approval", field="revoked_on"
                )
            if not command.reason.strip():
                return reject("invalid_value", "reason is empty", field="reason")
            return [
                ApprovalRevoked(
                    doctor_id=d,
                    objective_id=command.objective_id,
                    org_number=command.org_number,
                    revoked_on=command.revoked_on,
                    reason=command.reason,
                    revoked_by_hpr=command.revoked_by_hpr,
                )
            ]
        case IssueServiceConfirmation():
            period = state.periods.get(command.period_id)
            if period is None:
                return reject("unknown_reference", "no such period", field="period_id")
            if period.org_number != command.org_number:
                return reject(
                    "rule_violation",
                    "only the employer of the period confirms it (R7)",
                    field="org_number",
                    rule="R7",
                )
            if command.issued_on < period.start:
                return reject(
                    "invalid_value",
                    "issued_on is before the period starts (R7)",
                    field="issued_on",
                    rule="R7",
                )
            incomplete = lifecycle.check_confirmation(command, state)
            if incomplete is not None:
                return incomplete
            return [
                ServiceConfirmationIssued(
                    doctor_id=d,
                    period_id=command.period_id,
                    issued_on=command.issued_on,
                    signed_by_hpr=command.signed_by_hpr,
                )
            ]
        case LogSupervisionHours():
            ym = parse_month(command.month)
            if ym is None:
                return reject("invalid_value", "month must be YYYY-MM", field="month", rule="R12")
            if not 0 <= command.hours <= MAX_HOURS_PER_MONTH:
                return reject("invalid_value", "hours out of range", field="hours", rule="R12")
            first, last = month_bounds(*ym)
            if not any(
                p.org_number == command.org_number and overlap(p.start, p.end or last, first, last)
                for p in state.periods.values()
            ):
                return reject(
                    "rule_violation",
                    "the doctor has no service at this institution in that month (R12)",
                    field="month",
                    rule="R12",
                )
            return [
                SupervisionHoursLogged(
                    doctor_id=d,
                    org_number=command.org_number,
                    month=command.month,
                    hours=command.hours,
                )
            ]
        case GrantException():
            if command.exception_id in state.exceptions:
                return reject("duplicate", "exception_id exists", field="exception_id")
            if command.period_id is not None and command.period_id not in state.periods:
                return reject("unknown_reference", "no such period", field="period_id")
            if command.kind == "veileder_dispensation" and command.supervisor_hpr is None:
                return reject(
                    "invalid_value",
                    "a veileder dispensation names supervisor_hpr (R13)",
                    field="supervisor_hpr",
                    rule="R13",
                )
            invalid = lifecycle.check_grant(command, state)
            if invalid is not None:
                return invalid
            return [
                ExceptionGranted(
                    doctor_id=d,
                    exception_id=command.exception_id,
                    kind=command.kind,
                    granted_by=command.granted_by,
                    granted_on=command.granted_on,
                    valid_from=lifecycle.valid_from_of(command),
                    valid_to=command.valid_to,
                    granted_by_hpr=command.granted_by_hpr,
                    period_id=command.period_id,
                    supervisor_hpr=command.supervisor_hpr,
                    credit_months=command.credit_months,
                    reason=command.reason,
                )
            ]
        case EndSupervisorAssignment():
            ended = lifecycle.end_supervisor(command, state)
            return ended if isinstance(ended, Rejection) else list(ended)
        case WithdrawException():
            withdrawn = lifecycle.withdraw_exception(command, state)
            return withdrawn if isinstance(withdrawn, Rejection) else list(withdrawn)
        case RecordEducationPlan():
            planned = lifecycle.record_plan(command, state)
            return planned if isinstance(planned, Rejection) else list(planned)
        case RecordGroupSupervision():
            attended = lifecycle.record_group_supervision(command, state)
            return attended if isinstance(attended, Rejection) else list(attended)
    raise TypeError(f"not a doctor command: {command!r}")
