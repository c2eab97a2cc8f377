"""R5: who assesses, where and when an assessment counts, and which objectives are in the
doctor's path (R4). Asked by the decisions (an assessment that could never count is
refused), by the approval check (:mod:`domain.approval`) and by the basis flags."""

from __future__ import annotations

from datetime import date

from domain.catalogue import is_common
from domain.doctor.state import DoctorState
from events.catalogue import ObjectiveSpec


def is_appointed_veileder(state: DoctorState, hpr: str, on: date) -> bool:
    return any(
        s.role == "veileder" and s.hpr_number == hpr and s.valid_on(on) for s in state.supervisors
    )


def is_supervisor_at(state: DoctorState, hpr: str, org_number: str, on: date) -> bool:
    return any(
        s.role == "clinical_supervisor"
        and s.hpr_number == hpr
        and s.org_number == org_number
        and s.valid_on(on)
        for s in state.supervisors
    )


def in_service_at(state: DoctorState, org_number: str, on: date) -> bool:
    return state.serves_during(org_number, on, on)


def in_doctors_path(state: DoctorState, objective: ObjectiveSpec, on: date) -> bool:
    """R4/R5: part-1 objectives belong to every doctor; a common part-2/3 objective to a
    doctor with part-2/3 service; a specialty's (or its platform's) objective to a doctor
    with part-2/3 service in that specialty, started by ``on``."""
    if objective.part == 1:
        return True
    later = [p for p in state.periods.values() if p.part >= 2 and p.start <= on]
    if is_common(objective):
        return bool(later)
    return any(p.specialty == objective.specialty for p in later)


def assessment_problem(
    state: DoctorState,
    *,
    org_number: str,
    assessor_hpr: str,
    assessor_role: str,
    assessed_on: date,
) -> str | None:
    """R5: why an assessment does not count (None: it counts). It must be dated inside the
    doctor's service at the institution, by the doctor's appointed veileder (whatever role
    label) or by a supervisør assigned at that institution; role ``other`` never counts, a
    leader's only where the leader is also the appointed veileder."""
    if not in_service_at(state, org_number, assessed_on):
        return f"assessed_on is outside the doctor's service at {org_number}"
    if assessor_role == "other":
        return "an assessment by role 'other' does not count; veileder or supervisør assess"
    if is_appointed_veileder(state, assessor_hpr, assessed_on):
        return None
    if assessor_role == "clinical_supervisor" and is_supervisor_at(
        state, assessor_hpr, org_number, assessed_on
    ):
        return None
    return (
        f"assessor {assessor_hpr} is not the doctor's appointed veileder or a supervisør "
        f"assigned at {org_number} on {assessed_on.isoformat()}"
    )
