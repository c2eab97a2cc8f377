"""R16 registered training institutions, R17 the individual education plan, R18 group
supervision: the blockers and the group supervision report."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from domain.calendar_days import add_months
from domain.doctor.state import DoctorState
from domain.organisation import OrganisationState, registered_for
from domain.rejection import Blocker, period_blocker
from domain.rulesets import RuleSet


def registration_blockers(
    state: DoctorState,
    organisations: Mapping[str, OrganisationState],
    rules: RuleSet,
    as_of: date,
) -> list[Blocker]:
    """R16: part-2/3 service in a specialty at an institution not registered for that
    specialty on every day of the service (up to ``as_of``) is recorded and flagged."""
    if not rules.r16_registration_required:
        return []
    out = []
    for p in sorted(state.periods.values(), key=lambda p: p.start):
        if p.part == 1 or p.specialty is None or p.start > as_of:
            continue
        end = min(p.end, as_of) if p.end is not None else as_of
        org = organisations.get(p.org_number)
        if org is not None and registered_for(org, p.specialty, p.start, end):
            continue
        out.append(
            period_blocker(
                p,
                rule="R16",
                code="institution_not_registered",
                message=(
                    f"{p.org_number} er ikke registrert som utdanningsvirksomhet i "
                    f"{p.specialty} for hele tjenesten fra {p.start.isoformat()}."
                ),
                clears_by=(
                    "Helsedirektoratet registrerer virksomheten for spesialiteten for "
                    "tjenestens datoer."
                ),
            )
        )
    return out


def plan_blockers(state: DoctorState, as_of: date) -> list[Blocker]:
    """R17: every employer of the doctor makes an individual education plan; missing, it is
    flagged per employer (whether it blocks the application is the rule set's
    ``r17_missing_plan_blocks_application``)."""
    employers = sorted({p.org_number for p in state.periods.values() if p.start <= as_of})
    return [
        Blocker(
            rule="R17",
            code="missing_education_plan",
            refs=(org,),
            message=f"Individuell utdanningsplan fra {org} er ikke registrert.",
            clears_by="Arbeidsgiveren lager den individuelle utdanningsplanen.",
        )
        for org in employers
        if not (org in state.plans and state.plans[org] <= as_of)
    ]


class GroupSupervisionReport(msgspec.Struct, frozen=True, kw_only=True):
    """R18: attended group supervision, shown beside the individual hours."""

    rule: str
    sessions: int
    minutes: int
    first: date | None
    last: date | None
    months_spanned: int
    required_months: int | None
    met: bool | None


def months_spanned(first: date, last: date) -> int:
    """Whole months from the first session to the last (a session a month for two years
    spans 24)."""
    months = (last.year - first.year) * 12 + (last.month - first.month) + 1
    if add_months(first, months - 1) > last and months > 1:
        return months - 1
    return months


def group_supervision_report(
    state: DoctorState, specialty: str | None, as_of: date, rules: RuleSet
) -> GroupSupervisionReport | None:
    if specialty not in rules.group_supervision_specialties:
        return None
    sessions = sorted(s.held_on for s in state.group_sessions if s.held_on <= as_of)
    minutes = sum(s.minutes for s in state.group_sessions if s.held_on <= as_of)
    spanned = months_spanned(sessions[0], sessions[-1]) if sessions else 0
    required = rules.group_supervision_months
    return GroupSupervisionReport(
        rule="R18",
        sessions=len(sessions),
        minutes=minutes,
        first=sessions[0] if sessions else None,
        last=sessions[-1] if sessions else None,
        months_spanned=spanned,
        required_months=required,
        met=None if required is None else spanned >= required,
    )


def group_supervision_blockers(
    state: DoctorState, specialty: str | None, as_of: date, rules: RuleSet
) -> list[Blocker]:
    report = group_supervision_report(state, specialty, as_of, rules)
    if report is None or report.met is not False:
        return []
    return [
        Blocker(
            rule="R18",
            code="group_supervision",
            message=(
                f"Gruppeveiledning: {report.sessions} samlinger over {report.months_spanned} "
                f"måneder av {report.required_months}."
            ),
            clears_by="Deltakelse i gruppeveiledning, dokumentert.",
        )
    ]
