"""Events of a training institution (stream type ``organisation``, stream id = org number)."""

from __future__ import annotations

from datetime import date

from events.base import Event, register_union
from events.vocabulary import OrganisationKind


class OrganisationRegistered(Event, frozen=True, kw_only=True, tag="organisation.registered"):
    org_number: str
    name: str  # an institution's name, not personal data
    kind: OrganisationKind
    registered_on: date


class LeaderAppointed(Event, frozen=True, kw_only=True, tag="organisation.leader_appointed"):
    org_number: str
    hpr_number: str
    valid_from: date
    valid_to: date | None = None  # inclusive


class DelegationGranted(Event, frozen=True, kw_only=True, tag="organisation.delegation_granted"):
    org_number: str
    delegation_id: str
    leader_hpr: str
    delegate_hpr: str
    valid_from: date
    valid_to: date | None = None  # inclusive


class DelegationEnded(Event, frozen=True, kw_only=True, tag="organisation.delegation_ended"):
    """The delegation is valid up to and including ``ended_on``."""

    org_number: str
    delegation_id: str
    ended_on: date


class TrainingRegistrationRecorded(
    Event, frozen=True, kw_only=True, tag="organisation.training_registration_recorded"
):
    """R16: Helsedirektoratet registers the organisation as utdanningsvirksomhet for a
    specialty (parts 2-3), from ``valid_from`` to ``valid_to`` (inclusive) or open-ended."""

    org_number: str
    registration_id: str
    specialty: str
    valid_from: date
    valid_to: date | None = None


class TrainingRegistrationEnded(
    Event, frozen=True, kw_only=True, tag="organisation.training_registration_ended"
):
    """R16: the registration holds up to and including ``ended_on``."""

    org_number: str
    registration_id: str
    ended_on: date


OrganisationEvent = (
    OrganisationRegistered
    | LeaderAppointed
    | DelegationGranted
    | DelegationEnded
    | TrainingRegistrationRecorded
    | TrainingRegistrationEnded
)
ORGANISATION_EVENTS = register_union(OrganisationEvent)
