"""Assessments indexed by objective in the doctor's state (issue 14, doctor-3): the index
gives the same answers as the scan over every assessment in order of recording that it
replaced, over generated histories across a catalogue revision that renames, keeps, makes
stricter and removes objectives (R4 carry-over)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.approval import (
    counting_assessment,
    counts_for,
    holds_for,
    latest_assessment,
    latest_assessments,
)
from domain.catalogue import Catalogue, evolve
from domain.doctor.state import Assessment, DoctorState, fold
from events import doctor as ev
from events.catalogue import CatalogueVersionPublished, ObjectiveChange, ObjectiveSpec

V1, V2 = "2020-03", "2024-01"
IDS_V1 = ("A", "B", "C", "D")
IDS_V2 = ("A2", "B", "C", "E")


def spec(objective_id: str) -> ObjectiveSpec:
    return ObjectiveSpec(id=objective_id, part=1, arena="hospital", title=objective_id)


CATALOGUE = evolve(
    evolve(
        Catalogue(),
        CatalogueVersionPublished(
            catalogue_id="annex2",
            version=V1,
            effective_from=date(2020, 3, 1),
            objectives=tuple(spec(i) for i in IDS_V1),
        ),
    ),
    CatalogueVersionPublished(
        catalogue_id="annex2",
        version=V2,
        effective_from=date(2024, 1, 1),
        objectives=tuple(spec(i) for i in IDS_V2),
        changes=(
            ObjectiveChange(old_id="A", new_id="A2"),  # renamed: carries over
            ObjectiveChange(old_id="C", new_id="C", stricter=True),  # assess again
            ObjectiveChange(old_id="D"),  # removed
        ),
    ),
)

assessment = st.builds(
    lambda version, index, day, outcome, assessor: ev.ObjectiveAssessed(
        doctor_id="d",
        objective_id=(IDS_V1 if version == V1 else IDS_V2)[index],
        catalogue_version=version,
        org_number="974589095",
        assessor_hpr=assessor,
        assessor_role="veileder",
        outcome=outcome,
        assessed_on=date(2023, 6, 1) + timedelta(days=day),
    ),
    st.sampled_from((V1, V2)),
    st.integers(0, 3),
    st.integers(0, 400),  # same days occur: ties go to the later recorded
    st.sampled_from(("achieved", "not_yet")),
    st.sampled_from(("1000010", "1000001")),
)


def scanned_latest(
    recorded: list[Assessment], version: str, objective_id: str, on: date
) -> Assessment | None:
    """The scan the index replaced (domain.approval.latest_assessment before doctor-3)."""
    found: Assessment | None = None
    for a in recorded:
        if a.assessed_on > on or (found is not None and a.assessed_on < found.assessed_on):
            continue
        if holds_for(CATALOGUE, a.catalogue_version, a.objective_id, version, objective_id):
            found = a
    return found


@settings(max_examples=200, deadline=None)
@given(st.lists(assessment, max_size=40), st.integers(0, 500))
def test_the_index_decides_as_the_scan_did(events: list[ev.ObjectiveAssessed], day: int) -> None:
    state = fold(DoctorState(doctor_id="d"), events)
    recorded = state.all_assessments()
    assert [(a.objective_id, a.assessed_on, a.seq) for a in recorded] == [
        (e.objective_id, e.assessed_on, n) for n, e in enumerate(events)
    ]
    assert sum(len(xs) for xs in state.assessments.values()) == state.assessment_count
    on = date(2023, 6, 1) + timedelta(days=day)
    acting = frozenset({"1000001"})
    for version, ids in ((V1, IDS_V1), (V2, IDS_V2)):
        for objective_id in ids:
            expected = scanned_latest(recorded, version, objective_id, on)
            assert latest_assessment(state, CATALOGUE, version, objective_id, on) == expected
            counting = [a for a in recorded if counts_for(a, state, acting)]
            assert counting_assessment(
                state, CATALOGUE, version, objective_id, on, acting
            ) == scanned_latest(counting, version, objective_id, on)
        per_objective = latest_assessments(state, CATALOGUE, version, on)
        for objective_id, found in per_objective.items():
            assert found == scanned_latest(recorded, version, objective_id, on)


def test_a_snapshot_of_the_indexed_state_round_trips() -> None:
    import msgspec

    state = fold(
        DoctorState(doctor_id="d"),
        [
            ev.ObjectiveAssessed(
                doctor_id="d",
                objective_id=i,
                catalogue_version=V1,
                org_number="974589095",
                assessor_hpr="1000010",
                assessor_role="veileder",
                outcome="achieved",
                assessed_on=date(2023, 6, 1),
            )
            for i in ("A", "B", "A")
        ],
    )
    assert [a.objective_id for a in state.assessments["A"]] == ["A", "A"]
    decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(state), type=DoctorState)
    assert decoded == state
