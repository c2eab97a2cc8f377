"""Assessment, then approval (R4, R5): which assessments and approvals hold for an objective
of a given catalogue version, and whether an approver may approve it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from domain.assessment_rules import assessment_problem, in_doctors_path, is_appointed_veileder
from domain.catalogue import Catalogue, is_common, parts_of
from domain.doctor.state import Approval, Assessment, DoctorState
from domain.organisation import Authority, OrganisationState, authority
from domain.rejection import Rejection, reject
from events.catalogue import ObjectiveSpec


def holds_for(
    catalogue: Catalogue, recorded_version: str, recorded_id: str, version: str, objective_id: str
) -> bool:
    """An assessment/approval of ``recorded_id`` under ``recorded_version`` still holds for
    ``objective_id`` of ``version`` (R4 carry-over: not if the objective became stricter)."""
    if recorded_version == version:
        return recorded_id == objective_id
    return catalogue.carry_forward(recorded_version, recorded_id, version) == objective_id


def assessments_for(
    state: DoctorState, catalogue: Catalogue, objective_id: str
) -> list[Assessment]:
    """The assessments that may hold for ``objective_id`` (those recorded under its id, or
    under an id a later version renamed), in order of recording: the index, not a scan."""
    keys = [objective_id]
    if state.assessments.keys() - {objective_id}:
        keys += sorted((catalogue.renamed_ids() & state.assessments.keys()) - {objective_id})
    found = [a for k in keys for a in state.assessments.get(k, ())]
    return sorted(found, key=lambda a: a.seq) if len(keys) > 1 else found


def latest_assessment(
    state: DoctorState, catalogue: Catalogue, version: str, objective_id: str, on: date
) -> Assessment | None:
    """The latest assessment on or before ``on`` that holds for the objective."""
    found: Assessment | None = None
    for a in assessments_for(state, catalogue, objective_id):
        if a.assessed_on > on or (found is not None and a.assessed_on < found.assessed_on):
            continue
        if holds_for(catalogue, a.catalogue_version, a.objective_id, version, objective_id):
            found = a
    return found


def active_approval(
    state: DoctorState, catalogue: Catalogue, version: str, objective_id: str, on: date
) -> Approval | None:
    """The approval in effect on ``on`` that holds for the objective of ``version``."""
    for a in reversed(state.approvals):
        if a.active_on(on) and holds_for(
            catalogue, a.catalogue_version, a.objective_id, version, objective_id
        ):
            return a
    return None


def approvals_in_effect(
    state: DoctorState, catalogue: Catalogue, version: str, on: date
) -> dict[str, Approval]:
    """Every approval in effect on ``on``, keyed by the objective id it holds for in
    ``version`` (one carry-over walk per approval, for the read side)."""
    out: dict[str, Approval] = {}
    for a in state.approvals:
        if not a.active_on(on):
            continue
        target = (
            a.objective_id
            if a.catalogue_version == version
            else catalogue.carry_forward(a.catalogue_version, a.objective_id, version)
        )
        if target is not None:
            out[target] = a
    return out


def latest_assessments(
    state: DoctorState, catalogue: Catalogue, version: str, on: date
) -> dict[str, Assessment]:
    """The latest assessment on or before ``on`` per objective id of ``version``."""
    out: dict[str, Assessment] = {}
    for a in state.all_assessments():
        if a.assessed_on > on:
            continue
        target = (
            a.objective_id
            if a.catalogue_version == version
            else catalogue.carry_forward(a.catalogue_version, a.objective_id, version)
        )
        if target is not None and (target not in out or a.assessed_on >= out[target].assessed_on):
            out[target] = a
    return out


def counts_for(a: Assessment, state: DoctorState, acting: frozenset[str]) -> bool:
    """An assessment counts toward an approval by ``acting`` (approver and accountable
    leader): it counts as such (:func:`assessment_problem`), and it is not their own unless
    that person is the appointed veileder."""
    if (
        assessment_problem(
            state,
            org_number=a.org_number,
            assessor_hpr=a.assessor_hpr,
            assessor_role=a.assessor_role,
            assessed_on=a.assessed_on,
        )
        is not None
    ):
        return False
    return a.assessor_hpr not in acting or is_appointed_veileder(
        state, a.assessor_hpr, a.assessed_on
    )


def counting_assessment(
    state: DoctorState,
    catalogue: Catalogue,
    version: str,
    objective_id: str,
    on: date,
    acting: frozenset[str],
) -> Assessment | None:
    """The latest assessment on or before ``on`` that holds for the objective (R4 carry-over)
    and counts toward an approval by ``acting``."""
    found: Assessment | None = None
    for a in assessments_for(state, catalogue, objective_id):
        if a.assessed_on > on or (found is not None and a.assessed_on < found.assessed_on):
            continue
        if not holds_for(catalogue, a.catalogue_version, a.objective_id, version, objective_id):
            continue
        if counts_for(a, state, acting):
            found = a
    return found


def served_for(
    state: DoctorState,
    objective: ObjectiveSpec,
    org_number: str,
    on: date,
    *,
    ignore_arena: bool = False,
) -> bool:
    """R5: the doctor has service at ``org_number`` (started on or before ``on``) in the
    objective's part; for part-1 objectives in the objective's arena (R4 distribution),
    unless for a common objective a local agreement is recorded."""
    local_agreement = ignore_arena or (
        is_common(objective)
        and any(
            x.kind == "local_fkm_agreement"
            and x.in_force(on)
            and x.granted_by in {p.org_number for p in state.periods.values() if p.part == 1}
            for x in state.exceptions.values()
        )
    )
    for p in state.periods.values():
        if p.org_number != org_number or p.start > on or p.part not in parts_of(objective):
            continue
        wrong_arena = objective.arena is not None and p.arena != objective.arena
        if objective.part == 1 and wrong_arena and not local_agreement:
            continue
        return True
    return False


def _not_served(
    state: DoctorState, objective: ObjectiveSpec, org_number: str, on: date
) -> Rejection | None:
    """R5: service at the institution in the objective's part; R4: in its part-1 arena."""
    if served_for(state, objective, org_number, on):
        return None
    if served_for(state, objective, org_number, on, ignore_arena=True):
        return reject(
            "rule_violation",
            f"objective {objective.id} belongs to the {objective.arena} arena of part 1 and "
            "no local agreement is recorded (R4)",
            field="org_number",
            rule="R4",
        )
    return reject(
        "rule_violation",
        f"the doctor has no part-{objective.part} service at this institution (R5)",
        field="org_number",
        rule="R5",
    )


def no_achieved_assessment(
    state: DoctorState, catalogue: Catalogue, version: str, objective_id: str, on: date, detail: str
) -> Rejection | None:
    """R5: refused with ``detail`` unless the latest assessment of the objective on or before
    ``on`` says 'achieved' (asked before an approval and before a request for one)."""
    assessed = latest_assessment(state, catalogue, version, objective_id, on)
    if assessed is not None and assessed.outcome == "achieved":
        return None
    return reject("rule_violation", detail, field="objective_id", rule="R5")


def _objective_on(
    catalogue: Catalogue, objective_id: str, on: date
) -> tuple[str, ObjectiveSpec] | Rejection:
    """R4: the catalogue version in force on the approval date, and the objective in it."""
    version = catalogue.version_on(on)
    if version is None:
        return reject(
            "unknown_reference",
            "no catalogue version in force on approved_on",
            field="approved_on",
            rule="R4",
        )
    objective = version.objectives.get(objective_id)
    if objective is None:
        return reject(
            "unknown_reference",
            f"objective_id {objective_id} is not in catalogue version {version.version}",
            field="objective_id",
            rule="R4",
        )
    return version.version, objective


def _not_counted(
    state: DoctorState,
    catalogue: Catalogue,
    version: str,
    objective: ObjectiveSpec,
    on: date,
    auth: Authority,
) -> Rejection | None:
    """R5: the objective is in the doctor's path, and an assessment counts toward an
    approval by these people."""
    if not in_doctors_path(state, objective, on):
        return reject(
            "rule_violation",
            f"objective {objective.id} is not in the doctor's specialty or its platform (R5)",
            field="objective_id",
            rule="R5",
        )
    acting = frozenset({auth.approver_hpr, auth.leader_hpr})
    counted = counting_assessment(state, catalogue, version, objective.id, on, acting)
    if counted is None or counted.outcome != "achieved":
        return reject(
            "rule_violation",
            "no counting 'achieved' assessment: one by the appointed veileder or a supervisør "
            "at the institution, dated inside the service there, and not the approver's own "
            "unless the approver is the appointed veileder (R5)",
            field="objective_id",
            rule="R5",
        )
    return None


def check_approval(
    state: DoctorState,
    catalogue: Catalogue,
    organisations: Mapping[str, OrganisationState],
    objective_id: str,
    org_number: str,
    approver_hpr: str,
    on: date,
) -> tuple[str, Authority] | Rejection:
    """R4 + R5. Returns (catalogue version, authority) or the rejection."""
    found = _objective_on(catalogue, objective_id, on)
    if isinstance(found, Rejection):
        return found
    version, objective = found
    unassessed = no_achieved_assessment(
        state,
        catalogue,
        version,
        objective_id,
        on,
        "no prior 'achieved' assessment of this objective (R5)",
    )
    if unassessed is not None:
        return unassessed
    if active_approval(state, catalogue, version, objective_id, on) is not None:
        return reject("duplicate", "objective already approved", field="objective_id")
    org = organisations.get(org_number)
    if org is None or not org.registered:
        return reject(
            "unknown_reference", "org_number is not a registered institution", field="org_number"
        )
    not_served = _not_served(state, objective, org_number, on)
    if not_served is not None:
        return not_served
    auth = authority(org, approver_hpr, on)
    if auth is None:
        return reject(
            "rule_violation",
            "approver_hpr is neither leader nor delegate of the institution on approved_on (R5)",
            field="approver_hpr",
            rule="R5",
        )
    return _not_counted(state, catalogue, version, objective, on, auth) or (version, auth)
