"""The checks on a service period, its absences and its confirmation, before
:func:`domain.doctor.decide.decide` records them: (command, state) -> the rejection, or None
(R1, R3, R7, R8, R10, R15)."""

from __future__ import annotations

from datetime import date

from domain.calendar_days import overlap
from domain.doctor.checks import another_institution, no_such_period
from domain.doctor.commands import IssueServiceConfirmation, LogAbsence
from domain.doctor.state import DoctorState
from domain.rejection import Rejection, reject
from domain.service_time import max_load
from domain.time_anchors import LIS1_FROM
from events.doctor import ServicePeriodFacts

Load = tuple[date, date | None, int]  # start, end (None: open), percent held


def check_period_anchors(cmd: ServicePeriodFacts) -> Rejection | None:
    """Time anchors: LIS1 exists from 1 March 2017; earlier part-1 service was turnus."""
    if cmd.part == 1 and cmd.start < LIS1_FROM:
        return reject(
            "rule_violation",
            f"part 1 (LIS1) exists from {LIS1_FROM.isoformat()}; earlier service was turnus, "
            "recorded as the directorate's turnus_approved status (R3)",
            field="start",
            rule="R3",
        )
    return None


def check_period(cmd: ServicePeriodFacts, state: DoctorState) -> Rejection | None:
    """The facts of a period recorded or corrected (R1, R3, R8, R10, R15)."""
    if not 1 <= cmd.fte_percent <= 100:
        return reject("invalid_value", "fte_percent must be 1-100", field="fte_percent", rule="R10")
    if cmd.end is not None and cmd.end < cmd.start:
        return reject("invalid_value", "end is before start", field="end")
    if cmd.part == 1 and cmd.arena is None:
        return reject(
            "invalid_value",
            "a part-1 period needs arena hospital or municipal",
            field="arena",
            rule="R1",
        )
    if cmd.self_created_post and cmd.part != 1:
        return reject(
            "invalid_value",
            "self_created_post applies to part-1 (LIS1) posts only (R15)",
            field="self_created_post",
            rule="R15",
        )
    if not cmd.position.strip():
        return reject("invalid_value", "position is empty", field="position")
    anchored = check_period_anchors(cmd)
    if anchored is not None:
        return anchored
    return _over_full_time(cmd, state) or _absences_outside(cmd, state)


def _over_100(spans: list[Load], detail: str, field: str, rule: str) -> Rejection | None:
    """Shares held at the same time (a position's FTE, an absence's percent) may not add up
    past 100 %."""
    if max_load(spans) <= 100:
        return None
    return reject("rule_violation", detail, field=field, rule=rule)


def _over_full_time(cmd: ServicePeriodFacts, state: DoctorState) -> Rejection | None:
    """R10: simultaneous positions may not add up past 100 % (two 50 % positions are fine)."""
    others = [
        (p.start, p.end, p.fte_percent)
        for p in state.periods.values()
        if p.period_id != cmd.period_id
        and overlap(p.start, p.end or cmd.start.max, cmd.start, cmd.end or cmd.start.max)
    ]
    return _over_100(
        [*others, (cmd.start, cmd.end, cmd.fte_percent)],
        "overlapping service periods would add up to more than 100 % FTE (R10)",
        "fte_percent",
        "R10",
    )


def _absences_outside(cmd: ServicePeriodFacts, state: DoctorState) -> Rejection | None:
    """R8: absences already recorded must stay inside a corrected period."""
    for a in state.absences_of(cmd.period_id):
        if a.start < cmd.start or (cmd.end is not None and a.end > cmd.end):
            return reject(
                "rule_violation",
                f"absence {a.absence_id} would fall outside the period (R8)",
                field="end" if cmd.end is not None and a.end > cmd.end else "start",
                rule="R8",
            )
    return None


def check_absence(cmd: LogAbsence, state: DoctorState) -> Rejection | None:
    period = state.periods.get(cmd.period_id)
    if period is None:
        return reject("unknown_reference", "no such period", field="period_id")
    if cmd.absence_id in state.absences:
        return reject("duplicate", "absence_id exists", field="absence_id")
    if cmd.end < cmd.start:
        return reject("invalid_value", "end is before start", field="end")
    if not 1 <= cmd.percent <= 100:
        return reject("invalid_value", "percent must be 1-100", field="percent")
    if cmd.start < period.start:
        return reject(
            "rule_violation",
            "absence starts before its service period (R8)",
            field="start",
            rule="R8",
        )
    if period.end is not None and cmd.end > period.end:
        return reject(
            "rule_violation", "absence ends after its service period (R8)", field="end", rule="R8"
        )
    spans: list[Load] = [(a.start, a.end, a.percent) for a in state.absences_of(period.period_id)]
    return _over_100(
        [*spans, (cmd.start, cmd.end, cmd.percent)],
        "overlapping absences would exceed 100 % of the position (R8)",
        "percent",
        "R8",
    )


def check_confirmation(cmd: IssueServiceConfirmation, state: DoctorState) -> Rejection | None:
    """R7: the employer of the period confirms completed service, issued on or after its
    end."""
    period = state.periods.get(cmd.period_id)
    if period is None:
        return no_such_period(state, cmd.period_id)
    only_employer = "only the employer of the period confirms it (R7)"
    refused = another_institution(period.org_number, cmd.org_number, only_employer, "R7")
    if refused is not None:
        return refused
    if cmd.issued_on < period.start:
        return reject(
            "invalid_value",
            "issued_on is before the period starts (R7)",
            field="issued_on",
            rule="R7",
        )
    if period.end is None:
        return reject(
            "rule_violation",
            "the period has no end: a confirmation covers completed service only (R7)",
            field="period_id",
            rule="R7",
        )
    if cmd.issued_on < period.end:
        return reject(
            "rule_violation",
            f"issued_on is before the period ends ({period.end.isoformat()}): a confirmation "
            "covers completed service only (R7)",
            field="issued_on",
            rule="R7",
        )
    return None
