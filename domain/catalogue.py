"""The versioned objective catalogue (R4): state, evolve, decide and carry-over.

A catalogue (``annex2``) is a sequence of versions by effective date. Each assessment and
approval records the version it was made under; :func:`carry_forward` says whether it still
holds for a later version: an objective carries over when its id is kept or mapped to a new
id, and *not* when a version marks the change ``stricter`` or removes it.
"""

from __future__ import annotations

from datetime import date
from typing import assert_never

import msgspec

from domain.copying import copy_as
from domain.rejection import Rejection, reject
from events.catalogue import CatalogueVersionPublished, ObjectiveChange, ObjectiveSpec
from events.vocabulary import Part

ASA = ("allmennmedisin", "samfunnsmedisin", "arbeidsmedisin")


class CatalogueVersion(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    effective_from: date
    objectives: dict[str, ObjectiveSpec]
    changes: tuple[ObjectiveChange, ...] = ()
    label: str = ""


class Catalogue(msgspec.Struct, frozen=True, kw_only=True):
    catalogue_id: str = "annex2"
    versions: tuple[CatalogueVersion, ...] = ()  # ascending effective_from

    def version_on(self, on: date) -> CatalogueVersion | None:
        """The version in force on a date."""
        found = None
        for v in self.versions:
            if v.effective_from <= on:
                found = v
        return found

    def get(self, version: str) -> CatalogueVersion | None:
        for v in self.versions:
            if v.version == version:
                return v
        return None

    def latest(self) -> CatalogueVersion | None:
        return self.versions[-1] if self.versions else None

    def carry_forward(self, from_version: str, objective_id: str, to_version: str) -> str | None:
        """The id ``objective_id`` of ``from_version`` has in ``to_version`` if an assessment
        or approval made under the old version still holds there (R4), else None."""
        names = [v.version for v in self.versions]
        if from_version not in names or to_version not in names:
            return None
        i, j = names.index(from_version), names.index(to_version)
        if j < i or objective_id not in self.versions[i].objectives:
            return None
        current = objective_id
        for nxt in self.versions[i + 1 : j + 1]:
            change = next((c for c in nxt.changes if c.old_id == current), None)
            if change is not None:
                if change.stricter or change.new_id is None:
                    return None
                current = change.new_id
            if current not in nxt.objectives:
                return None
        return current

    def renamed_ids(self) -> frozenset[str]:
        """Every objective id a later version maps to another id: the only ids other than
        its own under which a record can hold for an objective (:meth:`carry_forward`)."""
        return frozenset(
            c.old_id
            for v in self.versions
            for c in v.changes
            if c.new_id is not None and c.new_id != c.old_id
        )

    def in_force_with(self, objective_id: str, on: date) -> CatalogueVersion | None:
        """The version in force on ``on`` if it has the objective (R4)."""
        version = self.version_on(on)
        return version if version is not None and objective_id in version.objectives else None


# --- path ---------------------------------------------------------------------------------


def is_common(objective: ObjectiveSpec) -> bool:
    return objective.specialty is None


def parts_of(objective: ObjectiveSpec) -> frozenset[int]:
    """The parts in which service gives authority to approve the objective (R5): a common
    objective of parts 2-3 may be approved by an institution of part 2 or of part 3."""
    if is_common(objective) and objective.part >= 2:
        return frozenset({2, 3})
    return frozenset({objective.part})


def path_objectives(version: CatalogueVersion, specialty: str | None) -> list[ObjectiveSpec]:
    """The objectives of a doctor's path (R6): all of part 1, the common objectives of parts
    2-3, and the specialty's own (when a specialty is given)."""
    out = []
    for o in version.objectives.values():
        if o.part == 1 or (o.part >= 2 and (is_common(o) or o.specialty == specialty)):
            if o.part >= 2 and specialty is None:
                continue
            out.append(o)
    return sorted(out, key=lambda o: (o.part, o.specialty or "", o.id))


# --- state, evolve, decide ------------------------------------------------------------------


def evolve(state: Catalogue, event: CatalogueVersionPublished) -> Catalogue:
    version = CatalogueVersion(
        version=event.version,
        effective_from=event.effective_from,
        objectives={o.id: o for o in event.objectives},
        changes=event.changes,
        label=event.label,
    )
    versions = sorted((*state.versions, version), key=lambda v: v.effective_from)
    return Catalogue(catalogue_id=event.catalogue_id, versions=tuple(versions))


class PublishCatalogueVersion(msgspec.Struct, frozen=True, kw_only=True, tag="publish_version"):
    catalogue_id: str
    version: str
    effective_from: date
    objectives: tuple[ObjectiveSpec, ...]
    changes: tuple[ObjectiveChange, ...] = ()
    label: str = ""


CatalogueCommand = PublishCatalogueVersion
Decision = list[CatalogueVersionPublished] | Rejection


def validate_objectives(objectives: tuple[ObjectiveSpec, ...]) -> Rejection | None:
    seen: set[str] = set()
    for o in objectives:
        if not o.id.strip():
            return reject("invalid_value", "objective id is empty", field="objectives", rule="R4")
        if o.id in seen:
            return reject(
                "invalid_value", f"objective {o.id} appears twice", field="objectives", rule="R4"
            )
        seen.add(o.id)
        part: Part = o.part
        if part == 1 and o.arena is None:
            return reject(
                "invalid_value",
                f"part-1 objective {o.id} needs an arena (hospital or municipal)",
                field="objectives",
                rule="R4",
            )
        if part >= 2 and o.arena is not None:
            return reject(
                "invalid_value",
                f"objective {o.id} of part {part} has an arena",
                field="objectives",
                rule="R4",
            )
    return None


def _check_changes(
    command: PublishCatalogueVersion, latest: CatalogueVersion | None
) -> Rejection | None:
    new_ids = {o.id for o in command.objectives}
    for change in command.changes:
        if latest is None or change.old_id not in latest.objectives:
            return reject(
                "unknown_reference",
                f"change names {change.old_id}, not in the previous version",
                field="changes",
                rule="R4",
            )
        if change.new_id is not None and change.new_id not in new_ids:
            return reject(
                "unknown_reference",
                f"change maps to {change.new_id}, not in this version",
                field="changes",
                rule="R4",
            )
    return None


def _publish(command: PublishCatalogueVersion, state: Catalogue) -> Decision:
    if state.get(command.version) is not None:
        return reject("duplicate", f"version {command.version} exists", field="version")
    latest = state.latest()
    if latest is not None and command.effective_from <= latest.effective_from:
        return reject(
            "invalid_value",
            "effective_from must be after the latest version's",
            field="effective_from",
            rule="R4",
        )
    if not command.objectives:
        return reject("invalid_value", "no objectives", field="objectives")
    bad = validate_objectives(command.objectives) or _check_changes(command, latest)
    return bad or [copy_as(CatalogueVersionPublished, command)]


def decide(command: CatalogueCommand, state: Catalogue) -> Decision:
    match command:
        case PublishCatalogueVersion():
            return _publish(command, state)
        case _:
            assert_never(command)
