"""Blockers: what stands between the doctor and final approval, and recorded breaches.
Each names its rule id and, in Norwegian, what would clear it (R1-R3, R5-R7, R9, R11-R18).

Exceptions and statuses count only from their entitled body, inside their validity and
unless withdrawn (:mod:`domain.statuses`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from domain.approval import approvals_in_effect
from domain.basis import (
    approval_basis_blockers,
    stale_confirmation_blockers,
    unconfirmed_service_blockers,
)
from domain.calendar_days import ONE_DAY
from domain.catalogue import Catalogue, CatalogueVersion, path_objectives
from domain.doctor.state import DoctorState, Period
from domain.organisation import OrganisationState
from domain.rejection import Blocker, period_blocker
from domain.rulesets import RuleSet
from domain.statuses import (
    part1_objectives_waived,
    part1_waived,
    sequence_exception_cleared,
    status_in_force,
    turnus_approved,
)
from domain.supervision import veileder_qualified
from domain.time_blockers import time_blockers
from domain.time_requirements import block_met, part1_time_met
from domain.training_rules import (
    group_supervision_blockers,
    plan_blockers,
    registration_blockers,
)


def sequence_cleared(state: DoctorState, p: Period, rules: RuleSet, on: date | None = None) -> bool:
    """R2: no exception exists under the regulation in force; under the 2024 proposal the
    municipality and the hospital of a self-created post, both, clear it for that post
    (:func:`domain.statuses.sequence_exception_cleared`)."""
    return sequence_exception_cleared(state, p, on or p.start, rules)


def sequence_blockers(state: DoctorState, rules: RuleSet, as_of: date) -> list[Blocker]:
    """R2: municipal part-1 service that began before the hospital year was done."""
    out = []
    for p in sorted(state.periods.values(), key=lambda p: p.start):
        if p.part != 1 or p.arena != "municipal" or p.start > as_of:
            continue
        if block_met(state, "part1_hospital", p.start - ONE_DAY, rules):
            continue
        if turnus_approved(state, as_of, rules) or sequence_cleared(state, p, rules, as_of):
            continue
        out.append(
            period_blocker(
                p,
                rule="R2",
                code="lis1_sequence",
                message=(
                    f"Tjenesten i kommunen (fra {p.start.isoformat()}) startet før året i "
                    "spesialisthelsetjenesten var fullført."
                ),
                clears_by=(
                    "Regelverket som gjelder har ikke unntak fra rekkefølgen; etter forslaget "
                    "fra 2024 kan kommunen og sykehuset for en selvopprettet stilling gjøre "
                    "unntak sammen."
                ),
            )
        )
    return out


def part1_complete_on(
    state: DoctorState, catalogue: Catalogue | None, rules: RuleSet, on: date
) -> bool:
    if not part1_time_met(state, on, rules):
        return False
    if part1_objectives_waived(state, on, rules):
        return True
    if catalogue is None:
        return True
    version = catalogue.version_on(on)
    if version is None:
        return True
    approved = approvals_in_effect(state, catalogue, version.version, on)
    return all(o.id in approved for o in path_objectives(version, None))


def part1_first_blockers(
    state: DoctorState, catalogue: Catalogue | None, rules: RuleSet, as_of: date
) -> list[Blocker]:
    """R3: part 2/3 service that began before part 1 was completed."""
    if part1_waived(state, as_of, rules) or (
        status_in_force(state, "part1_first_foreign", as_of, rules) is not None
    ):
        return []
    out = []
    for p in sorted(state.periods.values(), key=lambda p: p.start):
        if p.part == 1 or p.start > as_of or p.start < rules.parts_2_3_from:
            continue
        if part1_complete_on(state, catalogue, rules, p.start - ONE_DAY):
            continue
        out.append(
            period_blocker(
                p,
                rule="R3",
                code="part1_not_complete",
                message=(f"Del {p.part} startet {p.start.isoformat()} før del 1 var fullført."),
                clears_by=(
                    "Godkjent turnus eller unntak for utdanning i utlandet registrert "
                    "(spesialistforskriften § 18)."
                ),
            )
        )
    return out


def confirmation_blockers(state: DoctorState, as_of: date) -> list[Blocker]:
    """R7: every ended period needs the employer's service confirmation."""
    return [
        period_blocker(
            p,
            rule="R7",
            code="missing_confirmation",
            message=(
                "Bekreftelse på gjennomført tjeneste mangler for perioden "
                f"{p.start.isoformat()}–{p.end.isoformat()} ({p.org_number})."
            ),
            clears_by="Arbeidsgiveren utsteder bekreftelse på gjennomført praktisk tjeneste.",
        )
        for p in sorted(state.periods.values(), key=lambda p: p.start)
        if p.end is not None and p.end <= as_of and p.period_id not in state.confirmations
    ]


def veileder_blockers(state: DoctorState, rules: RuleSet, as_of: date) -> list[Blocker]:
    """R14 (part 1: the institution appoints a veileder) and R13 (qualification; parts 2-3
    need a veileder too)."""
    out = []
    veiledere = [s for s in state.supervisors if s.role == "veileder" and s.valid_from <= as_of]
    for p in sorted(state.periods.values(), key=lambda p: p.start):
        if p.start > as_of:
            continue
        # Running service needs a veileder now; ended service one assigned during it.
        running = p.end is None or p.end >= as_of
        has = any(
            s.part == p.part
            and (p.part != 1 or s.org_number == p.org_number)
            and (
                s.valid_on(as_of)
                if running
                else s.valid_from <= (p.end or as_of)
                and (s.valid_to is None or s.valid_to >= p.start)
            )
            for s in veiledere
        )
        if not has:
            out.append(
                period_blocker(
                    p,
                    rule="R14" if p.part == 1 else "R13",
                    code="missing_veileder",
                    message=f"Ingen veileder er oppnevnt for tjenesten ved {p.org_number}.",
                    clears_by="Arbeidsgiveren oppnevner en individuell veileder.",
                )
            )
    # R13 qualification is judged on the assignments in force: an ended one (replaced by a
    # qualified veileder) no longer flags.
    for s in veiledere:
        if s.valid_on(as_of) and not veileder_qualified(s, state, rules, as_of):
            out.append(
                Blocker(
                    rule="R13",
                    code="veileder_not_qualified",
                    part=s.part,
                    refs=(s.hpr_number,),
                    message=(
                        f"Veileder (HPR {s.hpr_number}) oppfyller ikke kravene for del {s.part}."
                    ),
                    clears_by=(
                        "En veileder som er spesialist i faget, eller dispensasjon fra "
                        "Helsedirektoratet."
                    ),
                )
            )
    return out


def self_created_post_blockers(state: DoctorState, rules: RuleSet, as_of: date) -> list[Blocker]:
    """R15: self-created LIS1 posts exist only under the 2024 proposal."""
    if rules.self_created_posts_provided:
        return []
    return [
        Blocker(
            rule="R15",
            code="self_created_post_not_provided",
            part=1,
            refs=(p.period_id,),
            message="Selvopprettet LIS1-stilling er ikke hjemlet i regelverket som gjelder.",
            clears_by="Avklaring med Helsedirektoratet.",
        )
        for p in state.periods.values()
        if p.self_created_post and p.start <= as_of
    ]


def objective_blockers(
    state: DoctorState,
    catalogue: Catalogue,
    version: CatalogueVersion,
    specialty: str | None,
    as_of: date,
    rules: RuleSet | None = None,
) -> list[Blocker]:
    """R6 (with R4/R5): every objective of the path approved (part 1's waived by approved
    turnus, R3, or the EU/EØS exemption, R19)."""
    missing: dict[int, list[str]] = {}
    approved = approvals_in_effect(state, catalogue, version.version, as_of)
    waived = rules is not None and part1_objectives_waived(state, as_of, rules)
    for o in path_objectives(version, specialty):
        if o.part == 1 and waived:
            continue
        if o.id not in approved:
            missing.setdefault(o.part, []).append(o.id)
    out = []
    for part, ids in sorted(missing.items()):
        out.append(
            Blocker(
                rule="R6",
                code="objectives_not_approved",
                part=part,
                refs=tuple(ids),
                message=f"{len(ids)} læringsmål i del {part} er ikke godkjent.",
                clears_by=(
                    "Vurdering som oppnådd og godkjenning av leder (eller den leder har delegert "
                    "til) ved en utdanningsvirksomhet der du har hatt tjeneste."
                ),
            )
        )
    return out


def all_blockers(
    state: DoctorState,
    catalogue: Catalogue | None,
    rules: RuleSet,
    as_of: date,
    specialty: str | None,
    *,
    organisations: Mapping[str, OrganisationState] | None = None,
    for_application: bool = False,
) -> list[Blocker]:
    """Every blocker on ``as_of``. ``organisations`` (the doctor's institutions) enables R16;
    ``for_application`` adds what only an application needs (R7: all claimed service
    completed and confirmed) and leaves out the flags that do not block it (R17 unless the
    rule set says so)."""
    out: list[Blocker] = []
    version = catalogue.version_on(as_of) if catalogue is not None else None
    if catalogue is not None and version is not None:
        out += objective_blockers(state, catalogue, version, specialty, as_of, rules)
        out += approval_basis_blockers(state, catalogue, as_of)
    out += time_blockers(state, rules, as_of, specialty)
    out += sequence_blockers(state, rules, as_of)
    out += part1_first_blockers(state, catalogue, rules, as_of)
    out += confirmation_blockers(state, as_of) + stale_confirmation_blockers(state, as_of)
    if for_application:
        out += unconfirmed_service_blockers(state, as_of)
    out += veileder_blockers(state, rules, as_of)
    out += self_created_post_blockers(state, rules, as_of)
    if organisations is not None:
        out += registration_blockers(state, organisations, rules, as_of)
    if not for_application or rules.r17_missing_plan_blocks_application:
        out += plan_blockers(state, as_of)
    out += group_supervision_blockers(state, specialty, as_of, rules)
    return sorted(out, key=lambda b: (int(b.rule[1:]), b.part or 0, b.refs))
