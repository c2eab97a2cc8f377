"""Events of the objective catalogue (stream type ``catalogue``, stream id = catalogue id,
e.g. ``annex2``)."""

from __future__ import annotations

from datetime import date

import msgspec

from events.base import Event, register_union
from events.vocabulary import Arena, Part


class ObjectiveSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One learning objective of a catalogue version (R4).

    ``specialty`` None means a common competence objective (FKM). ``arena`` is set for
    part-1 objectives: for FKM it is the published hospital/municipal distribution."""

    id: str
    part: Part
    specialty: str | None = None
    arena: Arena | None = None
    title: str


class ObjectiveChange(msgspec.Struct, frozen=True, kw_only=True):
    """How an objective of the previous version carries over (R4). ``new_id`` None: the
    objective was removed. ``stricter``: approvals under the old version do not carry over."""

    old_id: str
    new_id: str | None = None
    stricter: bool = False


class CatalogueVersionPublished(
    Event, frozen=True, kw_only=True, tag="catalogue.version_published"
):
    catalogue_id: str
    version: str
    effective_from: date
    objectives: tuple[ObjectiveSpec, ...]
    # Relative to the version in force just before this one; objectives whose id is in
    # both versions and not listed here carry over unchanged.
    changes: tuple[ObjectiveChange, ...] = ()
    label: str = ""  # e.g. "SAMPLE - not the official text"


CatalogueEvent = CatalogueVersionPublished
CATALOGUE_EVENTS = register_union(CatalogueEvent)
