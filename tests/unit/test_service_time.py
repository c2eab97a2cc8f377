"""Service-time arithmetic in calendar days: R8 (10 % absence), R10 (part time), R1 blocks."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar_days import add_months, days_inclusive, months_as_days
from domain.rulesets import IN_FORCE, REPORTED_LIS1_2019, RuleSet
from domain.service_time import AbsenceSpan, Span, block_time, max_load

YEAR = Span(start=date(2025, 1, 1), end=date(2025, 12, 31), fte_percent=100, part=1)


def sick(start: str, days: int, kind: str = "sick_leave", percent: int = 100) -> AbsenceSpan:
    s = date.fromisoformat(start)
    return AbsenceSpan(kind=kind, start=s, end=s + timedelta(days=days - 1), percent=percent)


def counted(
    span: Span,
    absences: list[AbsenceSpan],
    as_of: date = date(2030, 1, 1),
    rules: RuleSet = IN_FORCE,
) -> Fraction:
    return block_time([(span, absences)], as_of, rules).counted


# --- R8 -----------------------------------------------------------------------------------


def test_r8_absence_exactly_10_percent_is_not_deducted() -> None:
    span = Span(start=date(2025, 1, 1), end=date(2025, 4, 10), fte_percent=100, part=1)  # 100 days
    assert days_inclusive(span.start, span.end or span.start) == 100
    assert counted(span, [sick("2025-02-01", 10)]) == 100


def test_r8_absence_10_percent_plus_one_day_deducts_one_day() -> None:
    span = Span(start=date(2025, 1, 1), end=date(2025, 4, 10), fte_percent=100, part=1)
    assert counted(span, [sick("2025-02-01", 11)]) == 99


def test_r8_worked_example_12_months_with_40_days_sick_leave() -> None:
    # 365 days, 10 % = 36.5 days allowed, 40 days of sick leave -> 3.5 days deducted.
    t = block_time([(YEAR, [sick("2025-03-01", 40)])], date(2026, 1, 1), IN_FORCE)
    assert t.service == 365
    assert t.allowed_absence == Fraction(73, 2)
    assert t.deducted == Fraction(7, 2)
    assert t.counted == Fraction(723, 2)
    assert t.counted < months_as_days(YEAR.start, 12)  # the hospital year is 3.5 days short


def test_r8_vacation_and_courses_are_never_deducted() -> None:
    absences = [sick("2025-06-01", 35, "vacation"), sick("2025-09-01", 30, "education")]
    t = block_time([(YEAR, absences)], date(2026, 1, 1), IN_FORCE)
    assert t.counted == 365
    assert t.deductible_absence == 0
    assert t.other_absence == 65


def test_r8_vacation_counts_as_absence_in_part_1_only_under_the_reported_2019_set() -> None:
    absences = [sick("2025-06-01", 35, "vacation"), sick("2025-09-01", 30, "sick_leave")]
    assert counted(YEAR, absences, rules=IN_FORCE) == 365
    # 65 deductible, limit 36.5 + 14 extra days = 50.5 -> 14.5 deducted
    assert counted(YEAR, absences, rules=REPORTED_LIS1_2019) == Fraction(701, 2)
    part3 = Span(YEAR.start, YEAR.end, 100, 3)
    assert counted(part3, absences, rules=REPORTED_LIS1_2019) == 365  # 30 <= 36.5 + 14


def test_r8_deduct_all_absence_is_a_rule_set_choice() -> None:
    all_rules = msgspec.structs.replace(IN_FORCE, absence_deduction="all")
    assert counted(YEAR, [sick("2025-03-01", 20)], rules=all_rules) == 345
    assert counted(YEAR, [sick("2025-03-01", 20)], rules=IN_FORCE) == 365


def test_r8_graded_sick_leave_weighs_its_percent() -> None:
    # 100 days of 50 % sick leave = 50 days of absence, limit 36.5 -> 13.5 deducted
    assert counted(YEAR, [sick("2025-03-01", 100, percent=50)]) == Fraction(703, 2)


# --- R10 ----------------------------------------------------------------------------------


def test_r10_worked_example_6_months_at_60_percent() -> None:
    span = Span(start=date(2025, 1, 1), end=date(2025, 6, 30), fte_percent=60, part=1)
    assert counted(span, []) == Fraction(181 * 60, 100)  # 108.6 FTE-days of 181 needed
    # the same 6 months need 10 calendar months at 60 %
    longer = Span(
        start=date(2025, 1, 1), end=add_months(date(2025, 1, 1), 10), fte_percent=60, part=1
    )
    assert counted(longer, []) >= months_as_days(date(2025, 1, 1), 6)


def test_r10_worked_example_6_months_at_60_percent_end_on_29_october() -> None:
    needed = months_as_days(date(2025, 1, 1), 6)
    assert needed == 181
    done = Span(start=date(2025, 1, 1), end=date(2025, 10, 29), fte_percent=60, part=1)
    short = Span(start=date(2025, 1, 1), end=date(2025, 10, 28), fte_percent=60, part=1)
    assert counted(done, []) == Fraction(906, 5) >= needed  # 302 days x 0.6 = 181.2
    assert counted(short, []) < needed  # 301 x 0.6 = 180.6


def test_r10_50_percent_fte_doubles_the_calendar_time_needed() -> None:
    start = date(2025, 1, 1)
    needed = months_as_days(start, 12)  # 365
    full = Span(start=start, end=start + timedelta(days=needed - 1), fte_percent=100, part=1)
    half = Span(start=start, end=start + timedelta(days=2 * needed - 1), fte_percent=50, part=1)
    half_short = Span(
        start=start, end=start + timedelta(days=2 * needed - 2), fte_percent=50, part=1
    )
    assert counted(full, []) == needed
    assert counted(half, []) == needed
    assert counted(half_short, []) < needed


def test_r10_absence_in_a_part_time_position_weighs_the_fte() -> None:
    half = Span(start=date(2025, 1, 1), end=date(2025, 12, 31), fte_percent=50, part=1)
    t = block_time([(half, [sick("2025-03-01", 40)])], date(2026, 1, 1), IN_FORCE)
    assert t.service == Fraction(365, 2)
    assert t.deductible_absence == 20  # 40 days x 50 %
    assert t.deducted == 20 - Fraction(365, 20)


def test_r10_two_positions_of_50_percent_add_up_to_full_time() -> None:
    a = Span(start=date(2025, 1, 1), end=date(2025, 12, 31), fte_percent=50, part=1)
    b = Span(start=date(2025, 1, 1), end=date(2025, 12, 31), fte_percent=50, part=1)
    assert block_time([(a, []), (b, [])], date(2026, 1, 1), IN_FORCE).counted == 365
    assert max_load([(a.start, a.end, 50), (b.start, b.end, 50)]) == 100
    assert max_load([(a.start, a.end, 50), (b.start, b.end, 60)]) == 110


def test_r10_touching_periods_do_not_overlap() -> None:
    assert (
        max_load([(date(2025, 1, 1), date(2025, 1, 31), 100), (date(2025, 2, 1), None, 100)]) == 100
    )


# --- R1: calendar months, leap years, open-ended periods ------------------------------------


def test_r1_leap_year_hospital_year_is_366_days() -> None:
    assert months_as_days(date(2024, 1, 1), 12) == 366
    assert months_as_days(date(2025, 1, 1), 12) == 365
    assert months_as_days(date(2023, 3, 1), 12) == 366  # spans 29 February 2024
    leap = Span(start=date(2024, 1, 1), end=date(2024, 12, 31), fte_percent=100, part=1)
    assert counted(leap, []) == 366
    short = Span(start=date(2024, 1, 1), end=date(2024, 12, 30), fte_percent=100, part=1)
    assert counted(short, []) < months_as_days(date(2024, 1, 1), 12)


def test_r1_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)


def test_r1_open_ended_period_counts_up_to_as_of() -> None:
    open_ = Span(start=date(2025, 1, 1), end=None, fte_percent=100, part=1)
    assert counted(open_, [], as_of=date(2025, 1, 31)) == 31
    assert counted(open_, [], as_of=date(2024, 12, 31)) == 0
    assert counted(open_, [sick("2025-01-20", 30)], as_of=date(2025, 1, 31)) == 31 - (
        12 - Fraction(31, 10)
    )


def test_r8_absence_after_as_of_is_not_counted_yet() -> None:
    assert counted(YEAR, [sick("2025-12-01", 60)], as_of=date(2025, 6, 30)) == 181


# --- properties -----------------------------------------------------------------------------

dates = st.dates(min_value=date(2016, 1, 1), max_value=date(2032, 12, 31))


@st.composite
def spans_with_absences(draw: st.DrawFn) -> tuple[Span, list[AbsenceSpan], date]:
    start = draw(dates)
    length = draw(st.integers(min_value=0, max_value=900))
    end = None if draw(st.booleans()) else start + timedelta(days=length)
    span = Span(
        start=start,
        end=end,
        fte_percent=draw(st.integers(1, 100)),
        part=draw(st.sampled_from([1, 2, 3])),
    )
    horizon = end or start + timedelta(days=900)
    absences: list[AbsenceSpan] = []
    for _ in range(draw(st.integers(0, 4))):
        a_start = start + timedelta(days=draw(st.integers(0, (horizon - start).days)))
        a_len = draw(st.integers(0, (horizon - a_start).days))
        absences.append(
            AbsenceSpan(
                kind=draw(
                    st.sampled_from(
                        ["sick_leave", "parental_leave", "vacation", "education", "other_statutory"]
                    )
                ),
                start=a_start,
                end=a_start + timedelta(days=a_len),
                percent=draw(st.integers(1, 100))
                if not absences
                else draw(st.integers(1, 100 // (len(absences) + 1))),
            )
        )
    as_of = draw(
        st.dates(min_value=start - timedelta(days=30), max_value=horizon + timedelta(days=30))
    )
    return span, absences, as_of


@settings(max_examples=300, deadline=None)
@given(spans_with_absences())
def test_r10_property_counted_never_exceeds_calendar_time_times_fte(
    case: tuple[Span, list[AbsenceSpan], date],
) -> None:
    span, absences, as_of = case
    for rules in (IN_FORCE, REPORTED_LIS1_2019):
        t = block_time([(span, absences)], as_of, rules)
        assert 0 <= t.counted <= Fraction(t.calendar_days * span.fte_percent, 100)


@settings(max_examples=300, deadline=None)
@given(
    spans_with_absences(),
    st.integers(0, 400),
    st.integers(1, 100),
    st.sampled_from(["sick_leave", "leave_of_absence", "parental_leave"]),
)
def test_r8_property_adding_a_deductible_absence_never_increases_counted_time(
    case: tuple[Span, list[AbsenceSpan], date], offset: int, percent: int, kind: str
) -> None:
    span, absences, as_of = case
    extra_start = span.start + timedelta(days=offset)
    extra = AbsenceSpan(
        kind=kind, start=extra_start, end=extra_start + timedelta(days=offset // 2), percent=percent
    )
    for rules in (
        IN_FORCE,
        REPORTED_LIS1_2019,
        msgspec.structs.replace(IN_FORCE, absence_deduction="all"),
    ):
        before = block_time([(span, absences)], as_of, rules).counted
        after = block_time([(span, [*absences, extra])], as_of, rules).counted
        assert after <= before
