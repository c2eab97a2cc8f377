"""Rule sets with effective dates. Every number of RULES.md lives here, once per set, and so
do the choices the sources disagree on (R8: does vacation count as absence in part 1, the
limit, and whether only the excess over the limit or all absence is deducted).

``IN_FORCE`` follows the regulation and the 2018 letter (004); ``PROPOSED_2024`` the hearing
note (001) and is never selected by date, only on request ("what if");
``REPORTED_LIS1_2019`` is the reported but unconfirmed 2019 practice for part 1, also only on
request.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

import msgspec

AbsenceDeduction = Literal["excess", "all"]
SupervisionMode = Literal["per_calendar_year", "average_over_period"]


class RuleSet(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    effective_from: date | None  # None: never selected by date ("what if" only)
    # R1
    part1_hospital_months: int = 12
    part1_municipal_months: int = 6
    # R3: the regulation applies to parts 2-3 from this date
    parts_2_3_from: date = date(2019, 3, 1)
    # R8
    absence_limit_percent: int = 10
    absence_limit_extra_days: int = 0  # added to the limit per block (reported 2019 widening)
    absence_deduction: AbsenceDeduction = "excess"
    vacation_is_absence_in_part1: bool = False
    # R9
    minimum_total_months: int = 78  # 6.5 years
    turnus_credit_months: int = 18  # approved turnus stands in for part 1 (12 + 6 months)
    # R11
    gp_specialty: str = "allmennmedisin"
    gp_open_unselected_months: int = 24
    gp_min_fte_percent: int | None = 50  # None: no floor, time extended (R10)
    # R12
    supervision_specialties: tuple[str, ...] = ("allmennmedisin",)
    supervision_mode: SupervisionMode = "per_calendar_year"
    supervision_hours_per_month: float = 4.0
    supervision_months_per_year: float = 10.5
    supervision_hours_per_year: float = 42.0  # used by "average_over_period"
    # R13
    asa_specialties: tuple[str, ...] = ("allmennmedisin", "samfunnsmedisin", "arbeidsmedisin")
    asa_experienced_veileder_allowed: bool = False
    r13_directorate_dispensation: bool = True  # "§ 25 fjerde ledd oppheves" (2024)
    # R2 / R15
    r2_local_exception_for_self_created_posts: bool = False
    self_created_posts_provided: bool = False
    # Time anchors: LIS1 exists from this date; earlier part-1 service was turnus (refused)
    lis1_from: date = date(2017, 3, 1)
    # R16: parts 2-3 at an institution registered for the specialty
    r16_registration_required: bool = True
    # R17: a missing plan is flagged; whether it also blocks the application
    r17_missing_plan_blocks_application: bool = False
    # R18: group supervision shown for these specialties; months of it required (None: shown,
    # not required; the reported 2 years for allmennmedisin is unconfirmed)
    group_supervision_specialties: tuple[str, ...] = ("allmennmedisin", "samfunnsmedisin")
    group_supervision_months: int | None = None
    # R19: the EU/EØS exemption covers part-1 time as well as the part-1 objectives
    r19_exempts_part1_time: bool = True

    @property
    def supervision_hours_required_per_year(self) -> float:
        return self.supervision_hours_per_month * self.supervision_months_per_year


IN_FORCE: Final = RuleSet(
    id="in-force-2017",
    title="Spesialistforskriften (FOR-2016-12-08-1482) as in force",
    effective_from=date(2017, 3, 1),
)


def _what_if(id_: str, title: str, **amendments: Any) -> RuleSet:
    """``IN_FORCE`` with ``amendments``; never selected by date, only on request."""
    return msgspec.structs.replace(IN_FORCE, id=id_, title=title, effective_from=None, **amendments)


PROPOSED_2024: Final = _what_if(
    "proposed-2024",
    "Høringsnotat 2024: proposed amendments (what if)",
    gp_min_fte_percent=None,
    supervision_mode="average_over_period",
    asa_experienced_veileder_allowed=True,
    r13_directorate_dispensation=False,
    r2_local_exception_for_self_created_posts=True,
    self_created_posts_provided=True,
)

REPORTED_LIS1_2019: Final = _what_if(
    "reported-lis1-2019",
    "Reported LIS1 practice from 2019 (vacation counts as absence; unconfirmed)",
    vacation_is_absence_in_part1=True,
    absence_limit_extra_days=14,
)

RULE_SETS: Final[dict[str, RuleSet]] = {
    rs.id: rs for rs in (IN_FORCE, PROPOSED_2024, REPORTED_LIS1_2019)
}


def rule_set(rule_set_id: str) -> RuleSet:
    """A rule set by id (KeyError for an unknown id)."""
    return RULE_SETS[rule_set_id]


def rule_set_in_force(on: date, sets: dict[str, RuleSet] | None = None) -> RuleSet:
    """The dated set in force on ``on`` (the latest effective_from not after it)."""
    candidates = [
        rs
        for rs in (sets or RULE_SETS).values()
        if rs.effective_from is not None and rs.effective_from <= on
    ]
    if not candidates:
        return IN_FORCE
    return max(candidates, key=lambda rs: rs.effective_from or date.min)
