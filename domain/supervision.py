"""Supervision: hours (R12) and who may be veileder (R13)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import msgspec

from domain.calendar_days import add_months, days_inclusive, month_bounds, overlap
from domain.doctor.state import DoctorState, Supervisor
from domain.rulesets import RuleSet
from domain.statuses import veileder_dispensation
from domain.training_year import meeting_hours_by_month


def month_shares(state: DoctorState, specialty: str, as_of: date) -> dict[str, Fraction]:
    """R12: per month (``YYYY-MM``) with part-2/3 service in the specialty, the share of the
    month in service (pro rata: a period starting on the 16th of a 30-day month gives 15/30),
    counting only months that have ended by ``as_of``. Overlapping periods do not add up
    past the whole month."""
    days: dict[str, set[int]] = {}
    for p in state.periods.values():
        if p.part == 1 or (p.specialty != specialty and not p.open_unselected_gp):
            continue
        first = date(p.start.year, p.start.month, 1)
        while first <= as_of:
            month_first, last = month_bounds(first.year, first.month)
            if last > as_of or (p.end is not None and first > p.end):
                break
            window = overlap(p.start, p.end or last, month_first, last)
            if window is not None:
                key = f"{first.year:04d}-{first.month:02d}"
                days.setdefault(key, set()).update(
                    range(window[0].toordinal(), window[1].toordinal() + 1)
                )
            first = add_months(first, 1)
    out = {}
    for key, covered in days.items():
        first, last = month_bounds(int(key[:4]), int(key[5:]))
        out[key] = Fraction(len(covered), days_inclusive(first, last))
    return dict(sorted(out.items()))


def service_months(state: DoctorState, specialty: str, as_of: date) -> list[str]:
    """R12: the months (``YYYY-MM``) with part-2/3 service in the specialty, counting only
    months that have ended by ``as_of``."""
    return list(month_shares(state, specialty, as_of))


class SupervisionYear(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    service_months: int
    month_share: float  # R12 pro rata: months in service, partial months as fractions
    hours: float
    required_hours: float
    met: bool


class SupervisionReport(msgspec.Struct, frozen=True, kw_only=True):
    """R12. In force: per calendar year, 4 h x 10.5 months pro rata the months in service
    (3.5 h per service month). Proposed 2024: 42 h a year on average over the whole period."""

    rule: str
    mode: str
    service_months: int
    hours: float
    required_hours: float
    years: tuple[SupervisionYear, ...]
    met: bool


def supervision_report(
    state: DoctorState, specialty: str, as_of: date, rules: RuleSet
) -> SupervisionReport | None:
    if specialty not in rules.supervision_specialties:
        return None
    shares = month_shares(state, specialty, as_of)
    months = list(shares)
    # Individual supervision meetings count beside the monthly hours logged (issue 15).
    hours_by_month = meeting_hours_by_month(state, as_of)
    for e in state.supervision_hours.values():
        hours_by_month[e.month] = hours_by_month.get(e.month, 0.0) + e.hours
    years: dict[int, list[str]] = {}
    for m in months:
        years.setdefault(int(m[:4]), []).append(m)
    year_reports = []
    for y, ms in sorted(years.items()):
        hours = sum(hours_by_month.get(m, 0.0) for m in ms)
        share = sum((shares[m] for m in ms), start=Fraction(0))
        req = rules.supervision_hours_required_per_year * float(share) / 12
        year_reports.append(
            SupervisionYear(
                year=y,
                service_months=len(ms),
                month_share=round(float(share), 4),
                hours=round(hours, 2),
                required_hours=round(req, 2),
                met=hours + 1e-9 >= req,
            )
        )
    total = sum(hours_by_month.get(m, 0.0) for m in months)
    if rules.supervision_mode == "per_calendar_year":
        required = sum(y.required_hours for y in year_reports)
        met = all(y.met for y in year_reports)
    else:
        required = (
            rules.supervision_hours_per_year * float(sum(shares.values(), start=Fraction(0))) / 12
        )
        met = total + 1e-9 >= required
    return SupervisionReport(
        rule="R12",
        mode=rules.supervision_mode,
        service_months=len(months),
        hours=round(total, 2),
        required_hours=round(required, 2),
        years=tuple(year_reports),
        met=met,
    )


def veileder_qualified(
    s: Supervisor, state: DoctorState, rules: RuleSet, on: date | None = None
) -> bool:
    """R13. Part 1: a doctor with necessary experience (any doctor the employer appoints).
    Part 2: an approved specialist (platform specialties are not modelled: any specialty).
    Part 3: a specialist in the specialty; during a long stay outside the institution a
    specialist in another specialty. ASA specialties: a directorate dispensation for a
    non-specialist; proposed 2024 also a doctor with substantial experience in the field."""
    if s.role != "veileder" or s.part == 1:
        return True
    if s.part == 2:
        if s.specialist_in is not None:
            return True
    elif s.specialist_in is not None and (s.specialist_in == s.specialty or s.external_stay):
        return True
    if s.specialty in rules.asa_specialties:
        if veileder_dispensation(state, s.hpr_number, on or s.valid_from, rules):
            return True
        if rules.asa_experienced_veileder_allowed and s.substantial_experience:
            return True
    return False
