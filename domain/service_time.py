"""Service-time arithmetic in calendar days (R8, R10).

Units: an *FTE-day* is one calendar day at 100 %; a day at 60 % is 0.6 FTE-days (R10: part
time extends the training correspondingly). Exact :class:`~fractions.Fraction` arithmetic,
so no rounding creeps into a comparison with a requirement.

R8, interpretation chosen (parameters of the rule set):
- per service block (part 1 hospital, part 1 municipal, part 2, part 3, and open unselected
  general practice for R11), *service time* is the FTE-days of its periods up to ``as_of``;
- an absence weighs its calendar days x its percent x the period's FTE, so a day of full sick
  leave in a 50 % position removes 0.5 FTE-day;
- vacation and education are never deducted (unless the rule set says vacation counts as
  absence in part 1);
- "excess" (default): counted = service - max(0, deductible - limit); the limit is
  ``absence_limit_percent`` of the service time plus ``absence_limit_extra_days``;
  "all": counted = service - deductible.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from domain.calendar_days import days_inclusive, overlap
from domain.rulesets import RuleSet

NEVER_DEDUCTED = frozenset({"vacation", "education"})


@dataclass(frozen=True)
class Span:
    """A service period as the arithmetic sees it. ``end`` None = open-ended."""

    start: date
    end: date | None
    fte_percent: int
    part: int
    rules: RuleSet | None = None  # the set in force on the period's dates (None: the block's)


@dataclass(frozen=True)
class AbsenceSpan:
    kind: str
    start: date
    end: date
    percent: int = 100


@dataclass(frozen=True)
class BlockTime:
    """One service block's time, all in FTE-days except ``calendar_days``."""

    calendar_days: int
    service: Fraction
    deductible_absence: Fraction
    allowed_absence: Fraction
    deducted: Fraction
    counted: Fraction
    other_absence: Fraction  # vacation/education: recorded, not deducted


def effective_end(span_end: date | None, as_of: date) -> date:
    return as_of if span_end is None else min(span_end, as_of)


def span_calendar_days(span: Span, as_of: date) -> int:
    return days_inclusive(span.start, effective_end(span.end, as_of))


def span_service(span: Span, as_of: date) -> Fraction:
    """R10: calendar days up to ``as_of`` x FTE."""
    return Fraction(span_calendar_days(span, as_of) * span.fte_percent, 100)


def absence_weight(absence: AbsenceSpan, span: Span, as_of: date) -> Fraction:
    """The FTE-days an absence takes out of its period, up to ``as_of``."""
    window = overlap(absence.start, absence.end, span.start, effective_end(span.end, as_of))
    if window is None:
        return Fraction(0)
    days = days_inclusive(*window)
    return Fraction(days * absence.percent * span.fte_percent, 100 * 100)


def is_deductible(kind: str, part: int, rules: RuleSet) -> bool:
    """R8: sick leave, leave of absence and other statutory absence are deductible; vacation
    and education never are, except vacation in part 1 where the rule set says so."""
    if kind == "vacation" and part == 1 and rules.vacation_is_absence_in_part1:
        return True
    return kind not in NEVER_DEDUCTED


def block_time(
    periods: Iterable[tuple[Span, Iterable[AbsenceSpan]]], as_of: date, rules: RuleSet
) -> BlockTime:
    """R8 + R10 for one service block: its periods, each with its absences. Each period is
    judged by its own rule set (``span.rules``, else ``rules``): what is deductible, and its
    share of the limit. LIS1-only parameters (``vacation_is_absence_in_part1``,
    ``absence_limit_extra_days``) apply to part-1 periods only; the extra days are added
    once per block, by the set of its first part-1 period."""
    cal = 0
    service = Fraction(0)
    deductible = Fraction(0)
    other = Fraction(0)
    allowed = Fraction(0)
    extra_days: int | None = None
    for span, absences in periods:
        own = span.rules or rules
        cal += span_calendar_days(span, as_of)
        days = span_service(span, as_of)
        service += days
        allowed += days * Fraction(own.absence_limit_percent, 100)
        if span.part == 1 and extra_days is None:
            extra_days = own.absence_limit_extra_days
        for absence in absences:
            weight = absence_weight(absence, span, as_of)
            if is_deductible(absence.kind, span.part, own):
                deductible += weight
            else:
                other += weight
    if service > 0 and extra_days:
        allowed += extra_days
    if rules.absence_deduction == "all":
        deducted = deductible
    else:
        deducted = max(Fraction(0), deductible - allowed)
    counted = max(Fraction(0), service - deducted)
    return BlockTime(
        calendar_days=cal,
        service=service,
        deductible_absence=deductible,
        allowed_absence=allowed,
        deducted=deducted,
        counted=counted,
        other_absence=other,
    )


def max_load(intervals: Iterable[tuple[date, date | None, int]]) -> int:
    """The highest sum of loads on any one day over intervals (start, end or None, load):
    used for FTE over 100 % (R10) and overlapping absences."""
    points: list[tuple[date, int]] = []
    for start, end, load in intervals:
        points.append((start, load))
        if end is not None:
            points.append((date.fromordinal(end.toordinal() + 1), -load))
    # On the same day, ends (negative) before starts, so touching intervals do not add up.
    points.sort(key=lambda p: (p[0], p[1]))
    current = best = 0
    for _, delta in points:
        current += delta
        best = max(best, current)
    return best


def to_days(value: Fraction) -> float:
    """For read models: FTE-days rounded to two decimals."""
    return round(float(value), 2)
