"""The catalogue model (R4): sample ids, versions, carry-over, the importer; the organisation
aggregate (R5 leaders and delegations); rule sets with effective dates."""

from __future__ import annotations

from datetime import date

import pytest

from domain import organisation
from domain.catalogue import Catalogue, PublishCatalogueVersion, decide, evolve, path_objectives
from domain.catalogue_import import CatalogueFormatError, parse_csv, parse_json
from domain.catalogues import SAMPLE_FILES, sample_text, sample_versions
from domain.organisation import OrganisationState, authority
from domain.rulesets import (
    IN_FORCE,
    PROPOSED_2024,
    REPORTED_LIS1_2019,
    RULE_SETS,
    rule_set,
    rule_set_in_force,
)
from events.catalogue import ObjectiveChange, ObjectiveSpec
from tests.unit.builders import V1, V2, d, sample_catalogue


def test_r4_sample_catalogue_uses_the_real_part1_id_scheme() -> None:
    v1 = sample_catalogue().get(V1)
    assert v1 is not None
    ids = set(v1.objectives)
    assert {f"KLS-{n:03d}" for n in range(1, 46)} <= ids
    assert {f"KLP-{n:03d}" for n in range(1, 17)} <= ids
    assert {f"KLK-{n:03d}" for n in range(1, 41)} <= ids
    clinical = [
        o
        for o in v1.objectives.values()
        if o.part == 1 and o.specialty is None and not o.id.startswith("FKM")
    ]
    assert len(clinical) == 101
    fkm1 = [o for o in v1.objectives.values() if o.id.startswith("FKM") and o.part == 1]
    assert {o.arena for o in fkm1} == {"hospital", "municipal"}
    assert len([o for o in v1.objectives.values() if o.id.startswith("FKM")]) == 74


def test_r4_sample_is_labelled_as_sample() -> None:
    for name in SAMPLE_FILES:
        assert "SAMPLE" in sample_text(name)
    assert all("[Sample]" in o.title for cmd in sample_versions() for o in cmd.objectives)


def test_r4_carry_over_rules() -> None:
    cat = sample_catalogue()
    assert cat.carry_forward(V1, "KLS-003", V2) == "KLS-003"  # reworded, not stricter
    assert cat.carry_forward(V1, "KLK-012", V2) is None  # stricter
    assert cat.carry_forward(V1, "ALM-005", V2) == "ALM-021"  # new id, not stricter
    assert cat.carry_forward(V1, "KLS-001", V2) == "KLS-001"  # unchanged
    assert cat.carry_forward(V2, "KLS-001", V1) is None  # never backwards
    assert cat.carry_forward(V1, "FKM-075", V2) is None  # did not exist in v1
    assert cat.version_on(date(2024, 8, 31)).version == V1  # type: ignore[union-attr]
    assert cat.version_on(date(2024, 9, 1)).version == V2  # type: ignore[union-attr]
    assert cat.version_on(date(2019, 1, 1)) is None


def test_r4_path_objectives_of_a_specialty() -> None:
    v2 = sample_catalogue().get(V2)
    assert v2 is not None
    path = {o.id for o in path_objectives(v2, "allmennmedisin")}
    assert "ALM-021" in path and "IND-001" not in path and "FKM-060" in path and "KLS-001" in path
    assert all(o.part == 1 for o in path_objectives(v2, None))


def spec(id_: str, part: int = 1, arena: str | None = "hospital") -> ObjectiveSpec:
    return ObjectiveSpec(id=id_, part=part, arena=arena, title=id_)  # type: ignore[arg-type]


def publish(
    version: str,
    on: str,
    objectives: tuple[ObjectiveSpec, ...],
    changes: tuple[ObjectiveChange, ...] = (),
) -> PublishCatalogueVersion:
    return PublishCatalogueVersion(
        catalogue_id="annex2",
        version=version,
        effective_from=d(on),
        objectives=objectives,
        changes=changes,
    )


def test_r4_publishing_validates_versions_ids_and_changes() -> None:
    cat = Catalogue()
    [e] = decide(publish("a", "2020-01-01", (spec("X-1"),)), cat)  # type: ignore[misc]
    cat = evolve(cat, e)
    assert decide(publish("a", "2021-01-01", (spec("X-1"),)), cat).code == "duplicate"  # type: ignore[union-attr]
    assert decide(publish("b", "2019-01-01", (spec("X-1"),)), cat).field == "effective_from"  # type: ignore[union-attr]
    assert decide(publish("b", "2021-01-01", (spec("X-1"), spec("X-1"))), cat).field == "objectives"  # type: ignore[union-attr]
    assert decide(publish("b", "2021-01-01", (spec("X-1", arena=None),)), cat).rule == "R4"  # type: ignore[union-attr]
    assert decide(publish("b", "2021-01-01", (spec("X-2", part=3),)), cat).rule == "R4"  # type: ignore[union-attr]
    bad_change = (ObjectiveChange(old_id="NOPE", new_id="X-1"),)
    assert decide(publish("b", "2021-01-01", (spec("X-1"),), bad_change), cat).field == "changes"  # type: ignore[union-attr]
    bad_target = (ObjectiveChange(old_id="X-1", new_id="X-9"),)
    assert decide(publish("b", "2021-01-01", (spec("X-1"),), bad_target), cat).field == "changes"  # type: ignore[union-attr]


def test_r4_import_json_round_trip() -> None:
    cmd = parse_json(sample_text("annex2_sample_v2.json"))
    assert cmd.version == V2 and cmd.effective_from == date(2024, 9, 1)
    assert ObjectiveChange(old_id="KLK-012", new_id="KLK-012", stricter=True) in cmd.changes
    with pytest.raises(CatalogueFormatError):
        parse_json('{"version": "x"}')
    with pytest.raises(CatalogueFormatError):
        parse_json("not json")


def test_r4_import_csv() -> None:
    objectives = (
        "\ufeffid,part,specialty,arena,title\n"
        "KLS-001,1,,hospital,Somatikk 1\n"
        'FKM-031,1,,municipal,"Kommunikasjon, del 1"\n'
        "ALM-001,3,allmennmedisin,,Allmennmedisin 1\n"
    )
    changes = "old_id,new_id,stricter\nKLS-001,KLS-001,ja\nALM-009,,false\n"
    cmd = parse_csv(
        objectives, version="2025", effective_from=date(2025, 3, 1), changes_csv=changes
    )
    assert [o.id for o in cmd.objectives] == ["KLS-001", "FKM-031", "ALM-001"]
    assert cmd.objectives[1].title == "Kommunikasjon, del 1" and cmd.objectives[1].specialty is None
    assert cmd.objectives[2].specialty == "allmennmedisin" and cmd.objectives[2].arena is None
    assert cmd.changes == (
        ObjectiveChange(old_id="KLS-001", new_id="KLS-001", stricter=True),
        ObjectiveChange(old_id="ALM-009", new_id=None, stricter=False),
    )
    with pytest.raises(CatalogueFormatError, match="line 2"):
        parse_csv(
            "id,part,specialty,arena,title\nX,4,,,t\n", version="v", effective_from=date(2025, 1, 1)
        )
    with pytest.raises(CatalogueFormatError, match="header"):
        parse_csv("id,part\nX,1\n", version="v", effective_from=date(2025, 1, 1))


# --- organisation (R5) ------------------------------------------------------------------------


def make_org(*cmds: organisation.OrganisationCommand) -> OrganisationState | object:
    state = OrganisationState()
    for c in cmds:
        r = organisation.decide(c, state)
        if not isinstance(r, list):
            return r
        state = organisation.fold(state, r)
    return state


ORG = "964338531"
REG = organisation.RegisterOrganisation(
    org_number=ORG, name="Eksempel kommune", kind="municipality", registered_on=date(2018, 1, 1)
)
LEAD = organisation.AppointLeader(
    org_number=ORG, hpr_number="L1", valid_from=date(2018, 1, 1), valid_to=date(2022, 12, 31)
)


def test_r5_delegation_only_from_a_leader_and_valid_only_in_its_dates() -> None:
    not_leader = make_org(
        REG,
        LEAD,
        organisation.GrantDelegation(
            org_number=ORG,
            delegation_id="d1",
            leader_hpr="X",
            delegate_hpr="D",
            valid_from=date(2020, 1, 1),
        ),
    )
    assert getattr(not_leader, "rule", None) == "R5"
    state = make_org(
        REG,
        LEAD,
        organisation.GrantDelegation(
            org_number=ORG,
            delegation_id="d1",
            leader_hpr="L1",
            delegate_hpr="D",
            valid_from=date(2020, 1, 1),
            valid_to=date(2020, 12, 31),
        ),
    )
    assert isinstance(state, OrganisationState)
    assert authority(state, "D", date(2019, 12, 31)) is None
    assert authority(state, "D", date(2020, 1, 1)).leader_hpr == "L1"  # type: ignore[union-attr]
    assert authority(state, "D", date(2020, 12, 31)) is not None
    assert authority(state, "D", date(2021, 1, 1)) is None
    assert authority(state, "L1", date(2022, 12, 31)) is not None
    assert authority(state, "L1", date(2023, 1, 1)) is None  # leadership ended


def test_r5_ending_a_delegation_and_delegate_loses_authority_with_the_leader() -> None:
    state = make_org(
        REG,
        LEAD,
        organisation.GrantDelegation(
            org_number=ORG,
            delegation_id="d1",
            leader_hpr="L1",
            delegate_hpr="D",
            valid_from=date(2020, 1, 1),
        ),
        organisation.EndDelegation(org_number=ORG, delegation_id="d1", ended_on=date(2021, 6, 30)),
    )
    assert isinstance(state, OrganisationState)
    assert authority(state, "D", date(2021, 6, 30)) is not None
    assert authority(state, "D", date(2021, 7, 1)) is None
    again = organisation.decide(
        organisation.EndDelegation(org_number=ORG, delegation_id="d1", ended_on=date(2021, 7, 1)),
        state,
    )
    assert not isinstance(again, list) and again.code == "duplicate"
    open_ended = make_org(
        REG,
        LEAD,
        organisation.GrantDelegation(
            org_number=ORG,
            delegation_id="d1",
            leader_hpr="L1",
            delegate_hpr="D",
            valid_from=date(2020, 1, 1),
        ),
    )
    assert authority(open_ended, "D", date(2023, 1, 1)) is None  # type: ignore[arg-type]


def test_organisation_rejections_name_the_field() -> None:
    unregistered = make_org(LEAD)
    assert getattr(unregistered, "field", None) == "org_number"
    assert getattr(make_org(REG, REG), "code", None) == "duplicate"
    bad_dates = organisation.AppointLeader(
        org_number=ORG, hpr_number="L", valid_from=date(2020, 1, 1), valid_to=date(2019, 1, 1)
    )
    assert getattr(make_org(REG, bad_dates), "field", None) == "valid_to"


# --- rule sets ------------------------------------------------------------------------------


def test_rule_sets_hold_every_number_once() -> None:
    assert (IN_FORCE.part1_hospital_months, IN_FORCE.part1_municipal_months) == (12, 6)  # R1
    assert IN_FORCE.absence_limit_percent == 10 and IN_FORCE.absence_deduction == "excess"  # R8
    assert not IN_FORCE.vacation_is_absence_in_part1  # R8, 2018 letter
    assert IN_FORCE.minimum_total_months == 78  # R9
    assert IN_FORCE.gp_open_unselected_months == 24 and IN_FORCE.gp_min_fte_percent == 50  # R11
    assert IN_FORCE.supervision_hours_required_per_year == 42  # R12: 4 h x 10.5
    assert PROPOSED_2024.gp_min_fte_percent is None  # R11 proposal
    assert PROPOSED_2024.supervision_mode == "average_over_period"  # R12 proposal
    assert PROPOSED_2024.asa_experienced_veileder_allowed  # R13 proposal
    assert PROPOSED_2024.r2_local_exception_for_self_created_posts  # R2 proposal
    assert REPORTED_LIS1_2019.vacation_is_absence_in_part1


def test_rule_set_by_effective_date_never_picks_a_proposal() -> None:
    assert rule_set_in_force(date(2030, 1, 1)) is IN_FORCE
    assert rule_set_in_force(date(2010, 1, 1)) is IN_FORCE
    assert rule_set("proposed-2024") is PROPOSED_2024
    assert set(RULE_SETS) == {"in-force-2017", "proposed-2024", "reported-lis1-2019"}
