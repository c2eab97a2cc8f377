"""Commands on a training institution (stream ``org-<org number>``).

A command asks for a fact, so it carries the fields of the event that records it (the
``...Facts`` of :mod:`events.organisation`), as a doctor's commands do."""

from __future__ import annotations

from events import organisation as facts


class RegisterOrganisation(
    facts.OrganisationRegistrationFacts, frozen=True, kw_only=True, tag="register"
):
    pass


class AppointLeader(facts.LeaderFacts, frozen=True, kw_only=True, tag="appoint_leader"):
    pass


class GrantDelegation(facts.DelegationFacts, frozen=True, kw_only=True, tag="grant_delegation"):
    pass


class EndDelegation(facts.DelegationEndFacts, frozen=True, kw_only=True, tag="end_delegation"):
    pass


class RegisterForSpecialty(
    facts.TrainingRegistrationFacts, frozen=True, kw_only=True, tag="register_training"
):
    """R16: the directorate registers the organisation as utdanningsvirksomhet."""


class EndRegistration(
    facts.TrainingRegistrationEndFacts, frozen=True, kw_only=True, tag="end_registration"
):
    """R16: a registration is withdrawn by a dated end (valid up to and including it)."""


OrganisationCommand = (
    RegisterOrganisation
    | AppointLeader
    | GrantDelegation
    | EndDelegation
    | RegisterForSpecialty
    | EndRegistration
)
