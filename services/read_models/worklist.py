"""An organisation's work list (R14): its doctors in service now, objectives assessed but not
approved, doctors without a veileder, periods without a service confirmation (or with a stale
one, R7), doctors in service without the employer's education plan (R17)."""

from __future__ import annotations

from datetime import date

import msgspec

from domain.basis import confirmation_status
from domain.doctor.state import DoctorState


class WorkItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    doctor_id: str
    period_id: str | None = None
    objective_id: str | None = None
    since: date | None = None


class Worklist(msgspec.Struct, kw_only=True):
    org_number: str
    as_of: date
    in_service: list[WorkItem]
    assessed_not_approved: list[WorkItem]
    without_veileder: list[WorkItem]
    missing_confirmation: list[WorkItem]
    approval_requests: list[WorkItem]
    stale_confirmation: list[WorkItem] = []  # R7: the service was corrected after it
    without_plan: list[WorkItem] = []  # R17


def _service(worklist: Worklist, state: DoctorState, org_number: str, today: date) -> None:
    """In service now, without a veileder, periods ended without a confirmation (R7, R14)."""
    ours = [p for p in state.periods.values() if p.org_number == org_number]
    current = [p for p in ours if p.start <= today and (p.end is None or today <= p.end)]
    for period in current:
        worklist.in_service.append(
            WorkItem(doctor_id=state.doctor_id, period_id=period.period_id, since=period.start)
        )
    if current and not any(s.role == "veileder" and s.valid_on(today) for s in state.supervisors):
        worklist.without_veileder.append(WorkItem(doctor_id=state.doctor_id))
    if current and org_number not in state.plans:
        worklist.without_plan.append(WorkItem(doctor_id=state.doctor_id))
    for period in ours:
        ended = period.end is not None and period.end < today
        if ended and period.period_id not in state.confirmations:
            worklist.missing_confirmation.append(
                WorkItem(doctor_id=state.doctor_id, period_id=period.period_id, since=period.end)
            )
        elif confirmation_status(state, period.period_id) == "stale":
            worklist.stale_confirmation.append(
                WorkItem(doctor_id=state.doctor_id, period_id=period.period_id)
            )


def _objectives(worklist: Worklist, state: DoctorState, org_number: str, today: date) -> None:
    """Requests waiting for this institution's leader; assessed, not yet approved (R5)."""
    for request in sorted(state.approval_requests.values(), key=lambda r: r.objective_id):
        if request.org_number == org_number and request.status == "waiting":
            worklist.approval_requests.append(
                WorkItem(
                    doctor_id=state.doctor_id,
                    objective_id=request.objective_id,
                    since=request.requested_on,
                )
            )
    approved = {a.objective_id for a in state.approvals if a.active_on(today)}
    pending: dict[str, date] = {}
    for a in state.all_assessments():
        if a.org_number != org_number or a.assessed_on > today:
            continue
        if a.outcome == "achieved" and a.objective_id not in approved:
            pending[a.objective_id] = a.assessed_on
        elif a.outcome != "achieved":
            pending.pop(a.objective_id, None)
    for objective_id, since in sorted(pending.items()):
        worklist.assessed_not_approved.append(
            WorkItem(doctor_id=state.doctor_id, objective_id=objective_id, since=since)
        )


def build(org_number: str, doctors: list[DoctorState], today: date) -> Worklist:
    worklist = Worklist(
        org_number=org_number,
        as_of=today,
        in_service=[],
        assessed_not_approved=[],
        without_veileder=[],
        missing_confirmation=[],
        approval_requests=[],
    )
    for state in sorted(doctors, key=lambda s: s.doctor_id):
        _service(worklist, state, org_number, today)
        _objectives(worklist, state, org_number, today)
    return worklist
