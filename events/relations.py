"""Events of a doctor's relations to organisations and of conflicting identities (stream
type ``doctor``, stream id = ``doctor_id``: they are part of the doctor's audit trail).

An organisation that registers a doctor, or records service for one, stands in a relation
to the doctor. A relation claimed by an organisation for a doctor someone else registered
gives it no read of the wider record until the doctor or the directorate confirms it; the
doctor may dispute any relation, which flags that organisation's facts for the directorate
(RULES.md "Reach into a record").

Only internal ids, organisation numbers and dates: never a name or national identity
number. A dispute's ``reason`` is the doctor's own text about the relation.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from events.base import Event, register_union
from events.record import Facts

RelationBasis = Literal["registration", "service_period"]
IdentityField = Literal["hpr_number", "national_id"]


class RelationFact(Facts, Event, frozen=True, kw_only=True):
    """The base of the relation and identity events, facts on the doctor's record that are
    not decision state. Not an event itself and not registered."""


class OrganisationRelated(
    RelationFact, frozen=True, kw_only=True, tag="doctor.organisation_related"
):
    """An organisation came into a relation with the doctor: ``confirmed`` for the one that
    registered the doctor, ``claimed`` for any other."""

    org_number: str
    basis: RelationBasis
    status: Literal["confirmed", "claimed"]
    related_on: date


class OrganisationConfirmed(
    RelationFact, frozen=True, kw_only=True, tag="doctor.organisation_confirmed"
):
    org_number: str
    confirmed_by: Literal["doctor", "directorate"]
    confirmed_on: date


class OrganisationDisputed(
    RelationFact, frozen=True, kw_only=True, tag="doctor.organisation_disputed"
):
    org_number: str
    reason: str
    disputed_on: date


class IdentityConflictFlagged(
    RelationFact, frozen=True, kw_only=True, tag="doctor.identity_conflict_flagged"
):
    """A registration named an identity another doctor record already holds (or differs from
    the one this record holds): both records are kept, and the directorate resolves it."""

    conflict_id: str
    other_doctor_id: str
    field: IdentityField
    flagged_on: date


class IdentityConflictResolved(
    RelationFact, frozen=True, kw_only=True, tag="doctor.identity_conflict_resolved"
):
    conflict_id: str
    reason: str
    resolved_on: date


RelationEvent = (
    OrganisationRelated
    | OrganisationConfirmed
    | OrganisationDisputed
    | IdentityConflictFlagged
    | IdentityConflictResolved
)

# The one list of the relation event types: the registry and every tuple derive from it.
RELATION_EVENTS = register_union(RelationEvent)
