"""Commands on a training institution (stream ``org-<org number>``)."""

from __future__ import annotations

from datetime import date

import msgspec

from events.vocabulary import OrganisationKind


class RegisterOrganisation(msgspec.Struct, frozen=True, kw_only=True, tag="register"):
    org_number: str
    name: str
    kind: OrganisationKind
    registered_on: date


class AppointLeader(msgspec.Struct, frozen=True, kw_only=True, tag="appoint_leader"):
    org_number: str
    hpr_number: str
    valid_from: date
    valid_to: date | None = None


class GrantDelegation(msgspec.Struct, frozen=True, kw_only=True, tag="grant_delegation"):
    org_number: str
    delegation_id: str
    leader_hpr: str
    delegate_hpr: str
    valid_from: date
    valid_to: date | None = None


class EndDelegation(msgspec.Struct, frozen=True, kw_only=True, tag="end_delegation"):
    org_number: str
    delegation_id: str
    ended_on: date


class RegisterForSpecialty(msgspec.Struct, frozen=True, kw_only=True, tag="register_training"):
    """R16: the directorate registers the organisation as utdanningsvirksomhet."""

    org_number: str
    registration_id: str
    specialty: str
    valid_from: date
    valid_to: date | None = None


class EndRegistration(msgspec.Struct, frozen=True, kw_only=True, tag="end_registration"):
    """R16: a registration is withdrawn by a dated end (valid up to and including it)."""

    org_number: str
    registration_id: str
    ended_on: date


OrganisationCommand = (
    RegisterOrganisation
    | AppointLeader
    | GrantDelegation
    | EndDelegation
    | RegisterForSpecialty
    | EndRegistration
)
