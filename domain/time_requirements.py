"""Service blocks and their time requirements (R1, R8, R9, R10, R11).

Blocks: part-1 hospital (R1: 12 months), part-1 municipal (R1: 6 months), part 2, part 3,
and, for allmennmedisin, open unselected general practice (R11: 2 years). A requirement of
N months means the calendar days of N months from the block's first day (so leap days count
as they fall), reached in FTE-days (R10: part time extends it correspondingly) after the
R8 deduction. R9 asks 6.5 years (78 months) from the first service day over all blocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from fractions import Fraction
from typing import Literal

import msgspec

from domain.calendar_days import ONE_DAY, months_as_days
from domain.doctor.state import DoctorState, Period
from domain.rulesets import RuleSet
from domain.service_time import AbsenceSpan, BlockTime, Span, block_time, to_days
from domain.statuses import foreign_credit_months, gp_dispensation, part1_waived, turnus_approved
from domain.time_anchors import counting_span, rules_for

BlockName = Literal["part1_hospital", "part1_municipal", "part2", "part3", "gp_open_unselected"]


def in_block(
    block: BlockName, p: Period, rules: RuleSet, state: DoctorState, on: date | None = None
) -> bool:
    match block:
        case "part1_hospital":
            return p.part == 1 and p.arena == "hospital"
        case "part1_municipal":
            return p.part == 1 and p.arena == "municipal"
        case "part2":
            return p.part == 2
        case "part3":
            return p.part == 3
        case "gp_open_unselected":
            return p.part in (2, 3) and p.open_unselected_gp and counts_for_gp(p, rules, state, on)
    return False


def counts_for_gp(p: Period, rules: RuleSet, state: DoctorState, on: date | None = None) -> bool:
    """R11: in force, open unselected practice counts only at 50 % FTE or more (unless the
    directorate's dispensation is in force on ``on``, default the period's last day); the
    2024 proposal drops the floor (time extended by R10)."""
    if rules.gp_min_fte_percent is None or p.fte_percent >= rules.gp_min_fte_percent:
        return True
    return gp_dispensation(state, p, on or p.end or p.start, rules)


def periods_where(state: DoctorState, pred: Callable[[Period], bool]) -> list[Period]:
    return sorted((p for p in state.periods.values() if pred(p)), key=lambda p: p.start)


def block_inputs(
    state: DoctorState, periods: list[Period], rules: RuleSet | None = None
) -> list[tuple[Span, list[AbsenceSpan]]]:
    """The periods as the arithmetic sees them: each clipped to what counts (time anchors:
    from the authorisation date; no part 1 before LIS1 existed) and carrying the rule set in
    force on its own first day (or the "what if" set asked for)."""
    out = []
    for p in periods:
        span = counting_span(p, state.authorised_on, rules) if rules else (p.start, p.end)
        if span is None:
            continue
        out.append(
            (
                Span(
                    start=span[0],
                    end=span[1],
                    fte_percent=p.fte_percent,
                    part=p.part,
                    rules=rules_for(p.start, rules) if rules else None,
                ),
                [
                    AbsenceSpan(kind=a.kind, start=a.start, end=a.end, percent=a.percent)
                    for a in state.absences_of(p.period_id)
                ],
            )
        )
    return out


def counting_start(state: DoctorState, periods: list[Period], rules: RuleSet) -> date | None:
    """The first day that counts among ``periods`` (time anchors applied)."""
    starts = [s[0] for p in periods if (s := counting_span(p, state.authorised_on, rules))]
    return min(starts) if starts else None


def compute_block(
    state: DoctorState, block: BlockName, as_of: date, rules: RuleSet
) -> tuple[BlockTime, list[Period]]:
    periods = periods_where(
        state,
        lambda p: (
            in_block(block, p, rules, state, as_of)
            and p.start <= as_of
            and counting_span(p, state.authorised_on, rules) is not None
        ),
    )
    return block_time(block_inputs(state, periods, rules), as_of, rules), periods


def required_months(block: BlockName, rules: RuleSet) -> int | None:
    return {
        "part1_hospital": rules.part1_hospital_months,
        "part1_municipal": rules.part1_municipal_months,
        "gp_open_unselected": rules.gp_open_unselected_months,
    }.get(block)


class BlockReport(msgspec.Struct, frozen=True, kw_only=True):
    """One block's time for the read side; days are FTE-days rounded to 2 decimals."""

    block: BlockName
    rule: str
    periods: tuple[str, ...]
    calendar_days: int
    service_days: float
    counted_days: float
    required_days: int | None
    remaining_days: float | None  # at 100 % FTE
    deductible_absence_days: float
    absence_allowed_days: float  # R8: the 10 % (plus any extra days of the rule set)
    absence_deducted_days: float
    vacation_and_education_days: float
    met: bool | None


def block_report(state: DoctorState, block: BlockName, as_of: date, rules: RuleSet) -> BlockReport:
    t, periods = compute_block(state, block, as_of, rules)
    months = required_months(block, rules)
    first = counting_start(state, periods, rules)
    required = months_as_days(first, months) if months and first else None
    if months and not periods:
        required = months_as_days(as_of, months)
    remaining = None if required is None else to_days(max(Fraction(0), required - t.counted))
    return BlockReport(
        block=block,
        rule="R11"
        if block == "gp_open_unselected"
        else ("R1" if block.startswith("part1") else "R9"),
        periods=tuple(p.period_id for p in periods),
        calendar_days=t.calendar_days,
        service_days=to_days(t.service),
        counted_days=to_days(t.counted),
        required_days=required,
        remaining_days=remaining,
        deductible_absence_days=to_days(t.deductible_absence),
        absence_allowed_days=to_days(t.allowed_absence),
        absence_deducted_days=to_days(t.deducted),
        vacation_and_education_days=to_days(t.other_absence),
        met=None if required is None else t.counted >= required,
    )


def block_met(state: DoctorState, block: BlockName, as_of: date, rules: RuleSet) -> bool:
    """Whether the block's requirement is met counting service up to ``as_of``."""
    t, periods = compute_block(state, block, as_of, rules)
    months = required_months(block, rules)
    if months is None:
        return True
    first = counting_start(state, periods, rules)
    if first is None:
        return False
    return t.counted >= months_as_days(first, months)


def part1_time_met(state: DoctorState, as_of: date, rules: RuleSet) -> bool:
    """R1 (or approved turnus, R3 transitional, or the R19 exemption; directorate only)."""
    if part1_waived(state, as_of, rules):
        return True
    return block_met(state, "part1_hospital", as_of, rules) and block_met(
        state, "part1_municipal", as_of, rules
    )


class TotalReport(msgspec.Struct, frozen=True, kw_only=True):
    """R9: all counted time against 6.5 years from the first service day."""

    counted_days: float
    required_days: int | None
    turnus_credit_months: int
    foreign_credit_months: int = 0  # §32: credited by the directorate for education abroad
    met: bool


def total_report(state: DoctorState, as_of: date, rules: RuleSet) -> TotalReport:
    total = sum(
        (
            compute_block(state, b, as_of, rules)[0].counted
            for b in ("part1_hospital", "part1_municipal", "part2", "part3")
        ),
        start=block_time([], as_of, rules).counted,
    )
    first = counting_start(state, [p for p in state.periods.values() if p.start <= as_of], rules)
    credit = rules.turnus_credit_months if turnus_approved(state, as_of, rules) else 0
    foreign = foreign_credit_months(state, as_of, rules)
    months = max(0, rules.minimum_total_months - credit - foreign)
    required = months_as_days(first, months) if first else None
    return TotalReport(
        counted_days=to_days(total),
        required_days=required,
        turnus_credit_months=credit,
        foreign_credit_months=foreign,
        met=required is not None and total >= required,
    )


def day_before(d: date) -> date:
    return d - ONE_DAY
