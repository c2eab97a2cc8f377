"""The data set's fixed parts, deterministic: the sample catalogue (two versions), and hospital
trusts and municipalities, each with a leader and a delegate, all decided by ``domain``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain import catalogue as catalogue_domain
from domain import organisation as org_domain
from domain.catalogues import sample_versions
from events.vocabulary import OrganisationKind

TODAY = date(2026, 6, 1)  # the data set's "now": fixed, so the data are the same every run


def org_number(n: int) -> str:
    """The n-th valid organisation number (mod-11 check digit) from 900000000 up."""
    weights = (3, 2, 7, 6, 5, 4, 3, 2)
    base = 90_000_000 + n * 7
    while True:
        digits = [int(c) for c in f"{base:08d}"]
        check = 11 - sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return f"{base:08d}{check}"
        base += 1


@dataclass
class Stream:
    stream_type: str
    stream_id: str
    events: list[Any]  # domain Event Structs
    state: Any = None


@dataclass
class World:
    catalogue: Any
    catalogue_stream: Stream
    org_streams: list[Stream]
    organisations: dict[str, Any]
    hospitals: list[str]
    municipalities: list[str]
    leaders: dict[str, list[str]]  # org -> [leader hpr, delegate hpr]
    rejected: Counter[str] = field(default_factory=Counter)


def build_world(n_doctors: int) -> World:
    from domain.catalogue import Catalogue
    from domain.catalogue import evolve as evolve_catalogue

    cat_state = Catalogue()
    cat_events: list[Any] = []
    for command in sample_versions():
        decided = catalogue_domain.decide(command, cat_state)
        assert isinstance(decided, list), decided
        for e in decided:
            cat_state = evolve_catalogue(cat_state, e)
        cat_events += decided
    n_hosp = max(2, min(20, n_doctors // 500))
    n_mun = max(2, min(300, n_doctors // 100))
    hospitals = [org_number(i) for i in range(n_hosp)]
    municipalities = [org_number(1000 + i) for i in range(n_mun)]
    org_streams, organisations, leaders = [], {}, {}
    on = date(2019, 1, 1)
    for i, org in enumerate(hospitals + municipalities):
        kind: OrganisationKind = "hospital_trust" if org in hospitals else "municipality"
        leader, delegate = str(8_000_000 + 2 * i), str(8_000_001 + 2 * i)
        commands: list[org_domain.OrganisationCommand] = [
            org_domain.RegisterOrganisation(
                org_number=org, name=f"Bench {kind} {i}", kind=kind, registered_on=on
            ),
            org_domain.AppointLeader(org_number=org, hpr_number=leader, valid_from=on),
            org_domain.GrantDelegation(
                org_number=org,
                delegation_id=f"del-{org}",
                leader_hpr=leader,
                delegate_hpr=delegate,
                valid_from=on,
            ),
        ]
        state = org_domain.OrganisationState()
        events: list[Any] = []
        for c in commands:
            org_events = org_domain.decide(c, state)
            assert isinstance(org_events, list), org_events
            state = org_domain.fold(state, org_events)
            events += org_events
        org_streams.append(Stream("organisation", f"org-{org}", events, state))
        organisations[org] = state
        leaders[org] = [leader, delegate]
    return World(
        catalogue=cat_state,
        catalogue_stream=Stream("catalogue", "catalogue-annex2", cat_events, cat_state),
        org_streams=org_streams,
        organisations=organisations,
        hospitals=hospitals,
        municipalities=municipalities,
        leaders=leaders,
    )


def objectives_of(world: World, part: int, arena: str | None, specialty: str | None) -> list[str]:
    version = world.catalogue.version_on(TODAY)
    out = []
    for o in version.objectives.values():
        if o.part != part:
            continue
        if part == 1 and o.arena != arena:
            continue
        if part > 1 and o.specialty not in (None, specialty):
            continue
        out.append(o.id)
    return sorted(out)
