"""Time anchors (RULES.md "Time anchors").

- LIS1 (part 1 under this regulation) exists from 1 March 2017, parts 2-3 from 1 March 2019
  (001 §2.2). A part-1 period starting earlier is refused (:mod:`domain.lifecycle`); one
  already stored is not counted (:func:`counting_span`).
- Service counts toward R9 and the parts only from the authorisation (or licence) date: a
  period is clipped to start on it (:func:`counting_span`).
- Each period is judged by the rule set in force on its own dates (:func:`rules_for`); a
  rule set's LIS1-only parameters apply to part 1 only (:mod:`domain.service_time`).
"""

from __future__ import annotations

from datetime import date

from domain.doctor.state import Period
from domain.rulesets import RuleSet, rule_set_in_force

LIS1_FROM = date(2017, 3, 1)
PARTS_2_3_FROM = date(2019, 3, 1)


def counting_span(
    p: Period, authorised_on: date | None, rules: RuleSet
) -> tuple[date, date | None] | None:
    """The part of a period that counts: from the authorisation date, and for part 1 not
    before LIS1 existed. None when nothing of it counts."""
    start = p.start
    if authorised_on is not None and start < authorised_on:
        start = authorised_on
    if p.part == 1 and start < rules.lis1_from:
        return None
    if p.end is not None and p.end < start:
        return None
    return start, p.end


def rules_for(period_start: date, requested: RuleSet) -> RuleSet:
    """The rule set a period is judged by. A set chosen by date (``effective_from`` set) is
    replaced, per period, by the set in force on the period's first day; a "what if" set
    (``effective_from`` None) judges every period, as asked."""
    if requested.effective_from is None:
        return requested
    return rule_set_in_force(period_start)
