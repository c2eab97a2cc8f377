"""Events of a training institution (stream type ``organisation``, stream id = org number).

As on a doctor's record (:mod:`events.doctor`), each fact is a plain Struct (``...Facts``):
the event records it, and the command that asks for it (``domain.organisation.commands``)
carries the same fields, so a field list is written once. The facts are not events
themselves and are not registered.
"""

from __future__ import annotations

from datetime import date

import msgspec

from events.base import Event, register_union
from events.vocabulary import OrganisationKind


class OrganisationFacts(msgspec.Struct, frozen=True, kw_only=True):
    org_number: str


class OrganisationRegistrationFacts(OrganisationFacts, frozen=True, kw_only=True):
    name: str  # an institution's name, not personal data
    kind: OrganisationKind
    registered_on: date


class LeaderFacts(OrganisationFacts, frozen=True, kw_only=True):
    hpr_number: str
    valid_from: date
    valid_to: date | None = None  # inclusive


class DelegationFacts(OrganisationFacts, frozen=True, kw_only=True):
    delegation_id: str
    leader_hpr: str
    delegate_hpr: str
    valid_from: date
    valid_to: date | None = None  # inclusive


class DelegationEndFacts(OrganisationFacts, frozen=True, kw_only=True):
    """The delegation is valid up to and including ``ended_on``."""

    delegation_id: str
    ended_on: date


class TrainingRegistrationFacts(OrganisationFacts, frozen=True, kw_only=True):
    """R16: Helsedirektoratet registers the organisation as utdanningsvirksomhet for a
    specialty (parts 2-3), from ``valid_from`` to ``valid_to`` (inclusive) or open-ended."""

    registration_id: str
    specialty: str
    valid_from: date
    valid_to: date | None = None


class TrainingRegistrationEndFacts(OrganisationFacts, frozen=True, kw_only=True):
    """R16: the registration holds up to and including ``ended_on``; a command that asks
    for it withdraws the registration."""

    registration_id: str
    ended_on: date


# The events: a fact, recorded. ---------------------------------------------------------
class OrganisationRegistered(
    OrganisationRegistrationFacts, Event, frozen=True, kw_only=True, tag="organisation.registered"
):
    """Helsedirektoratet registers the institution (RULES.md authority); its leaders,
    delegations and R16 registrations are recorded after this."""


class LeaderAppointed(
    LeaderFacts, Event, frozen=True, kw_only=True, tag="organisation.leader_appointed"
):
    pass


class DelegationGranted(
    DelegationFacts, Event, frozen=True, kw_only=True, tag="organisation.delegation_granted"
):
    pass


class DelegationEnded(
    DelegationEndFacts, Event, frozen=True, kw_only=True, tag="organisation.delegation_ended"
):
    pass


class TrainingRegistrationRecorded(
    TrainingRegistrationFacts,
    Event,
    frozen=True,
    kw_only=True,
    tag="organisation.training_registration_recorded",
):
    pass


class TrainingRegistrationEnded(
    TrainingRegistrationEndFacts,
    Event,
    frozen=True,
    kw_only=True,
    tag="organisation.training_registration_ended",
):
    pass


OrganisationEvent = (
    OrganisationRegistered
    | LeaderAppointed
    | DelegationGranted
    | DelegationEnded
    | TrainingRegistrationRecorded
    | TrainingRegistrationEnded
)
ORGANISATION_EVENTS = register_union(OrganisationEvent)
