"""Time blockers: R1 (each block of part 1, some part-3 service), R9 (the minimum total),
R11 (open unselected general practice) and R12 (supervision hours). Each names, in
Norwegian, how much is counted and what would clear it."""

from __future__ import annotations

from datetime import date

from domain.doctor.state import DoctorState
from domain.rejection import Blocker
from domain.rulesets import RuleSet
from domain.statuses import part1_waived
from domain.supervision import supervision_report
from domain.time_requirements import BlockName, block_report, total_report

BLOCK_TEXT: dict[BlockName, tuple[str, int]] = {
    "part1_hospital": ("LIS1 i spesialisthelsetjenesten", 1),
    "part1_municipal": ("LIS1 i kommunehelsetjenesten", 1),
}


def _days(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _block_time(state: DoctorState, rules: RuleSet, as_of: date) -> list[Blocker]:
    """R1: the time each block of part 1 needs."""
    out = []
    for block, (label, part) in BLOCK_TEXT.items():
        r = block_report(state, block, as_of, rules)
        if not r.met:
            out.append(
                Blocker(
                    rule="R1",
                    code=f"{block}_time",
                    part=part,
                    refs=r.periods,
                    message=(
                        f"{label}: {_days(r.counted_days)} av {r.required_days} dager godkjent tid."
                    ),
                    clears_by=(
                        f"Mer tjeneste: {_days(r.remaining_days or 0)} dager i 100 % stilling "
                        "(tilsvarende lenger ved deltid)."
                    ),
                )
            )
    return out


def _total_time(state: DoctorState, rules: RuleSet, as_of: date, specialty: str) -> list[Blocker]:
    """R9: the minimum total; R1: some part-3 service in the specialty."""
    out = []
    total = total_report(state, as_of, rules)
    if not total.met:
        out.append(
            Blocker(
                rule="R9",
                code="minimum_total_time",
                message=(
                    f"Samlet tellende tid er {_days(total.counted_days)} dager; minst "
                    f"{_days(rules.minimum_total_months / 12)} år "
                    f"({total.required_days} dager) kreves."
                ),
                clears_by="Mer praktisk tjeneste i utdanningsløpet.",
            )
        )
    if not any(p.part == 3 and p.specialty == specialty for p in state.periods.values()):
        out.append(
            Blocker(
                rule="R1",
                code="no_part3_service",
                part=3,
                message=f"Ingen tjeneste i del 3 i spesialiteten {specialty} er registrert.",
                clears_by="Registrert tjeneste i del 3 i spesialiteten.",
            )
        )
    return out


def _gp_time(state: DoctorState, rules: RuleSet, as_of: date) -> list[Blocker]:
    """R11: open unselected general practice, with its FTE floor."""
    gp = block_report(state, "gp_open_unselected", as_of, rules)
    if gp.met:
        return []
    below = [
        p.period_id
        for p in state.periods.values()
        if p.open_unselected_gp
        and rules.gp_min_fte_percent is not None
        and p.fte_percent < rules.gp_min_fte_percent
        and p.period_id not in gp.periods
    ]
    floor = f" Tjeneste under {rules.gp_min_fte_percent} % stilling teller ikke." if below else ""
    return [
        Blocker(
            rule="R11",
            code="gp_open_unselected_time",
            part=3,
            refs=gp.periods + tuple(below),
            message=(
                f"Åpen uselektert allmennpraksis: {_days(gp.counted_days)} av "
                f"{gp.required_days} dager.{floor}"
            ),
            clears_by="Mer tjeneste i åpen uselektert allmennpraksis.",
        )
    ]


def _supervision(state: DoctorState, rules: RuleSet, as_of: date, specialty: str) -> list[Blocker]:
    """R12: supervision hours, per calendar year or over the period by the rule set."""
    sup = supervision_report(state, specialty, as_of, rules)
    if sup is None or sup.met:
        return []
    per_year = rules.supervision_mode == "per_calendar_year"
    short = tuple(str(y.year) for y in sup.years if not y.met)
    return [
        Blocker(
            rule="R12",
            code="supervision_hours",
            refs=short if per_year else (),
            message=f"Veiledning: {_days(sup.hours)} av {_days(sup.required_hours)} timer.",
            clears_by=(
                "Registrerte veiledningstimer: i snitt "
                f"{_days(rules.supervision_hours_per_month)} timer i måneden i "
                f"{_days(rules.supervision_months_per_year)} av årets måneder, "
                "hvert kalenderår."
                if per_year
                else "Registrerte veiledningstimer: i snitt "
                f"{_days(rules.supervision_hours_per_year)} timer i året over perioden."
            ),
        )
    ]


def time_blockers(
    state: DoctorState, rules: RuleSet, as_of: date, specialty: str | None
) -> list[Blocker]:
    out = [] if part1_waived(state, as_of, rules) else _block_time(state, rules, as_of)
    if specialty is not None:
        out += _total_time(state, rules, as_of, specialty)
        if specialty == rules.gp_specialty:
            out += _gp_time(state, rules, as_of)
        out += _supervision(state, rules, as_of, specialty)
    return out
