"""Checks that several decisions on a doctor's record make, written once: (state, ...) ->
the rejection, or None."""

from __future__ import annotations

from datetime import date

from domain.doctor.state import DoctorState
from domain.rejection import Rejection, reject

NO_SERVICE = "the doctor has no service at this institution"


def no_service_at(
    state: DoctorState, org_number: str, rule: str, detail: str = NO_SERVICE
) -> Rejection | None:
    """Refused under ``rule`` (on ``org_number``) unless the doctor has some service period,
    at any time, at the institution; ``detail`` gets the rule id appended."""
    if state.serves_at(org_number):
        return None
    return reject("rule_violation", f"{detail} ({rule})", field="org_number", rule=rule)


def no_service_during(
    state: DoctorState, org_number: str, first: date, last: date, field: str, rule: str, when: str
) -> Rejection | None:
    """Refused under ``rule`` (on ``field``) unless some service period at the institution
    overlaps ``first``..``last``; ``when`` says which days, in words."""
    if state.serves_during(org_number, first, last):
        return None
    return reject("rule_violation", f"{NO_SERVICE} {when} ({rule})", field=field, rule=rule)


def no_such_period(state: DoctorState, period_id: str | None) -> Rejection | None:
    """A period the command names (None: it names none) is on the record."""
    if period_id is not None and period_id not in state.periods:
        return reject("unknown_reference", "no such period", field="period_id")
    return None


def another_institution(
    on_record: str, org_number: str, detail: str, rule: str
) -> Rejection | None:
    """Refused under ``rule`` (on ``org_number``) unless the command names the institution on
    record for what it acts on: the employer of a period, the one that approved, assigned
    or was asked."""
    if org_number == on_record:
        return None
    return reject("rule_violation", detail, field="org_number", rule=rule)
