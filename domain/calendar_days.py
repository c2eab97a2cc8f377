"""Calendar-day arithmetic. All intervals are inclusive of both ends."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(d.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


def days_inclusive(start: date, end: date) -> int:
    """Days from ``start`` to ``end`` both included; 0 when end is before start."""
    return max(0, (end - start).days + 1)


def months_as_days(anchor: date, months: int) -> int:
    """The calendar days in ``months`` months starting at ``anchor`` (R1, R9, R11): 12 months
    from 1 Jan 2024 is 366 days, from 1 Jan 2025 365."""
    return (add_months(anchor, months) - anchor).days


def overlap(a_start: date, a_end: date, b_start: date, b_end: date) -> tuple[date, date] | None:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return (start, end) if start <= end else None


def parse_month(text: str) -> tuple[int, int] | None:
    """``YYYY-MM`` to (year, month), None when malformed."""
    if len(text) != 7 or text[4] != "-":
        return None
    y, m = text[:4], text[5:]
    if not (y.isascii() and y.isdigit() and m.isascii() and m.isdigit()):
        return None
    year, month = int(y), int(m)
    if not 1 <= month <= 12 or year < 1900:
        return None
    return year, month


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
