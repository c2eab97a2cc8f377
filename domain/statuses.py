"""Exceptions and statuses on a doctor's record: who grants each kind, and whether one is
honoured on a date (RULES.md "Who may record what": exceptions and statuses).

An exception counts only when all of these hold on the date it is asked about:
- it was granted by its one entitled body (:data:`GRANTORS`); a record from anyone else,
  such as one stored before authority was checked, is kept but never honoured;
- it is inside its validity period and not withdrawn (:meth:`ExceptionRecord.in_force`);
- the rule set in force knows it (R2: no sequence exception under the regulation in force;
  R13: the directorate's veileder dispensation is abolished by the 2024 proposal).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Literal

from domain.doctor.state import DoctorState, ExceptionRecord, Period
from domain.organisation import OrganisationState
from domain.rulesets import RuleSet
from events.vocabulary import DIRECTORATE, ExceptionKind

Grantor = Literal["directorate", "self_created_post", "part1_employer"]

GRANTORS: dict[ExceptionKind, Grantor] = {
    "turnus_approved": "directorate",  # R3 transitional (004 §1-2)
    "part1_first_foreign": "directorate",  # R3, §18 third paragraph
    "foreign_credit": "directorate",  # §32 / §18 third paragraph
    "eu_eos_exemption": "directorate",  # R19
    "gp_fte_dispensation": "directorate",  # R11, "etter søknad"
    "veileder_dispensation": "directorate",  # R13, "tidsavgrenset"
    # R2 (proposed 2024, R15): the municipality and the hospital of a self-created post,
    # both of them.
    "sequence_part1": "self_created_post",
    # R4: the releasing hospital and the receiving municipality agree locally.
    "local_fkm_agreement": "part1_employer",
}

# Kinds whose validity must end: the R13 dispensation is "tidsavgrenset".
TIME_LIMITED: frozenset[str] = frozenset({"veileder_dispensation"})


def self_created_post_orgs(state: DoctorState) -> dict[str, Period]:
    """R2/R15: the organisations of the doctor's self-created part-1 posts (by org number:
    one of its periods there)."""
    return {p.org_number: p for p in state.periods.values() if p.part == 1 and p.self_created_post}


def part1_employers(state: DoctorState) -> set[str]:
    return {p.org_number for p in state.periods.values() if p.part == 1}


def granted_by_entitled(x: ExceptionRecord, state: DoctorState) -> bool:
    """Whether the record comes from the body entitled to grant its kind."""
    grantor = GRANTORS.get(x.kind)  # type: ignore[call-overload]
    if grantor == "directorate":
        return x.granted_by == DIRECTORATE
    if grantor == "self_created_post":
        return x.granted_by in self_created_post_orgs(state)
    if grantor == "part1_employer":
        return x.granted_by in part1_employers(state)
    return False


def honoured(x: ExceptionRecord, state: DoctorState, on: date, rules: RuleSet) -> bool:
    if not x.in_force(on) or not granted_by_entitled(x, state):
        return False
    # R13: the 2024 proposal abolishes the directorate's dispensation (§ 25 fjerde ledd).
    return x.kind != "veileder_dispensation" or rules.r13_directorate_dispensation


def status_in_force(
    state: DoctorState, kind: ExceptionKind, on: date, rules: RuleSet
) -> ExceptionRecord | None:
    """The honoured exception of ``kind`` on ``on`` that concerns the whole record (no
    period), if any."""
    for x in state.exceptions.values():
        if x.kind == kind and honoured(x, state, on, rules):
            return x
    return None


def turnus_approved(state: DoctorState, on: date, rules: RuleSet) -> bool:
    """R3 transitional: approved turnus counts as a completed part 1 (directorate only)."""
    return status_in_force(state, "turnus_approved", on, rules) is not None


def eu_eos_exempt(state: DoctorState, on: date, rules: RuleSet) -> bool:
    """R19: exempt from the part-1 objectives (directorate only)."""
    return status_in_force(state, "eu_eos_exemption", on, rules) is not None


def part1_waived(state: DoctorState, on: date, rules: RuleSet) -> bool:
    """Part 1 stands as done: approved turnus (R3), or the EU/EØS exemption (R19) where the
    rule set reads it as covering part-1 time too (``r19_exempts_part1_time``)."""
    return turnus_approved(state, on, rules) or (
        rules.r19_exempts_part1_time and eu_eos_exempt(state, on, rules)
    )


def part1_objectives_waived(state: DoctorState, on: date, rules: RuleSet) -> bool:
    return turnus_approved(state, on, rules) or eu_eos_exempt(state, on, rules)


def foreign_credit_months(state: DoctorState, on: date, rules: RuleSet) -> int:
    """§32 / §18 third paragraph: months credited toward R9 for education abroad."""
    return sum(
        x.credit_months or 0
        for x in state.exceptions.values()
        if x.kind == "foreign_credit" and honoured(x, state, on, rules)
    )


def sequence_exception_cleared(state: DoctorState, p: Period, on: date, rules: RuleSet) -> bool:
    """R2: under the regulation in force nothing clears the sequence breach. Under the 2024
    proposal (``r2_local_exception_for_self_created_posts``) a self-created post is cleared
    when both its municipality and a hospital of the same self-created LIS1 course have
    recorded the exception for it."""
    if not rules.r2_local_exception_for_self_created_posts or not p.self_created_post:
        return False
    posts = self_created_post_orgs(state)
    hospitals = {o for o, q in posts.items() if q.arena == "hospital"}
    grantors = {
        x.granted_by
        for x in state.exceptions.values()
        if x.kind == "sequence_part1"
        and x.period_id == p.period_id
        and x.in_force(on)
        and granted_by_entitled(x, state)
    }
    return p.org_number in grantors and bool(grantors & hospitals)


def gp_dispensation(state: DoctorState, p: Period, on: date, rules: RuleSet) -> bool:
    """R11: the directorate's dispensation from the 50 % floor for this period (or all)."""
    return any(
        x.kind == "gp_fte_dispensation"
        and x.period_id in (None, p.period_id)
        and honoured(x, state, on, rules)
        for x in state.exceptions.values()
    )


def veileder_dispensation(state: DoctorState, hpr: str, on: date, rules: RuleSet) -> bool:
    """R13: the directorate's time-limited dispensation for this veileder."""
    return any(
        x.kind == "veileder_dispensation"
        and x.supervisor_hpr == hpr
        and honoured(x, state, on, rules)
        for x in state.exceptions.values()
    )


def local_fkm_agreement(state: DoctorState, on: date, rules: RuleSet) -> bool:
    """R4: a local agreement on the part-1 common-objective split, from a part-1 employer."""
    return status_in_force(state, "local_fkm_agreement", on, rules) is not None


def org_kind(organisations: Mapping[str, OrganisationState], org_number: str) -> str | None:
    org = organisations.get(org_number)
    return org.kind if org is not None and org.registered else None
