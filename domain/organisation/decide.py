"""Decisions on a training institution: one small function per command, dispatched by a
``match`` that ends in ``assert_never``."""

from __future__ import annotations

from typing import TypeVar, assert_never

from domain.copying import copy_as
from domain.organisation.commands import (
    AppointLeader,
    EndDelegation,
    EndRegistration,
    GrantDelegation,
    OrganisationCommand,
    RegisterForSpecialty,
    RegisterOrganisation,
)
from domain.organisation.state import Delegation, OrganisationState, TrainingRegistration
from domain.rejection import Rejection, reject
from events.organisation import (
    DelegationEnded,
    DelegationGranted,
    LeaderAppointed,
    OrganisationEvent,
    OrganisationRegistered,
    TrainingRegistrationEnded,
    TrainingRegistrationRecorded,
)

Decision = list[OrganisationEvent] | Rejection

Ending = TypeVar("Ending", Delegation, TrainingRegistration)


def _invalid_validity(
    cmd: AppointLeader | GrantDelegation | RegisterForSpecialty,
) -> Rejection | None:
    if cmd.valid_to is not None and cmd.valid_to < cmd.valid_from:
        return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
    return None


def _to_end(found: Ending | None, what: str) -> Ending | Rejection:
    """The delegation or registration an end names: it exists and has not ended yet."""
    if found is None:
        return reject("unknown_reference", f"no such {what}", field=f"{what}_id")
    if found.ended_on is not None:
        return reject("duplicate", f"{what} already ended", field=f"{what}_id")
    return found


def _register(cmd: RegisterOrganisation, state: OrganisationState) -> Decision:
    if state.registered:
        return reject("duplicate", "organisation already registered", field="org_number")
    if not cmd.name.strip():
        return reject("invalid_value", "name is empty", field="name")
    return [copy_as(OrganisationRegistered, cmd)]


def _appoint(cmd: AppointLeader) -> Decision:
    return _invalid_validity(cmd) or [copy_as(LeaderAppointed, cmd)]


def _delegate(cmd: GrantDelegation, state: OrganisationState) -> Decision:
    if cmd.delegation_id in state.delegations:
        return reject("duplicate", "delegation id exists", field="delegation_id")
    if (invalid := _invalid_validity(cmd)) is not None:
        return invalid
    if cmd.delegate_hpr == cmd.leader_hpr:
        return reject("invalid_value", "a leader cannot delegate to self", field="delegate_hpr")
    if not state.is_leader(cmd.leader_hpr, cmd.valid_from):
        return reject(
            "rule_violation",
            "leader_hpr is not a leader of this organisation on valid_from (R5)",
            field="leader_hpr",
            rule="R5",
        )
    return [copy_as(DelegationGranted, cmd)]


def _end(cmd: EndDelegation, state: OrganisationState) -> Decision:
    delegation = _to_end(state.delegations.get(cmd.delegation_id), "delegation")
    if isinstance(delegation, Rejection):
        return delegation
    return [copy_as(DelegationEnded, cmd)]


def _register_training(cmd: RegisterForSpecialty, state: OrganisationState) -> Decision:
    if cmd.registration_id in state.registrations:
        return reject("duplicate", "registration_id exists", field="registration_id")
    if (invalid := _invalid_validity(cmd)) is not None:
        return invalid
    if not cmd.specialty.strip():
        return reject("invalid_value", "specialty is empty", field="specialty", rule="R16")
    return [copy_as(TrainingRegistrationRecorded, cmd)]


def _end_registration(cmd: EndRegistration, state: OrganisationState) -> Decision:
    reg = _to_end(state.registrations.get(cmd.registration_id), "registration")
    if isinstance(reg, Rejection):
        return reg
    if cmd.ended_on < reg.valid_from:
        return reject(
            "invalid_value", "ended_on is before valid_from", field="ended_on", rule="R16"
        )
    return [copy_as(TrainingRegistrationEnded, cmd)]


def authorise_organisation(
    command: OrganisationCommand, issuer_kind: str, issuer_org: str | None
) -> Rejection | None:
    """RULES.md authority for an institution's own record: the directorate registers
    institutions and their R16 registrations; the organisation itself appoints its leaders
    and their delegations (R5)."""
    if isinstance(command, RegisterOrganisation | RegisterForSpecialty | EndRegistration):
        if issuer_kind != "directorate":
            rule = "R5" if isinstance(command, RegisterOrganisation) else "R16"
            return reject(
                "not_entitled",
                "registered by Helsedirektoratet alone",
                field="org_number",
                rule=rule,
            )
        return None
    if issuer_kind != "organisation" or issuer_org != command.org_number:
        return reject(
            "not_entitled",
            "an organisation appoints its own leaders and delegations only",
            field="org_number",
            rule="R5",
        )
    return None


def decide(
    command: OrganisationCommand,
    state: OrganisationState,
    *,
    issuer_kind: str | None = None,
    issuer_org: str | None = None,
) -> Decision:
    """With ``issuer_kind`` ("organisation", "directorate") the command is first checked
    against RULES.md authority; the service layer always passes it."""
    if issuer_kind is not None:
        refused = authorise_organisation(command, issuer_kind, issuer_org)
        if refused is not None:
            return refused
    if not isinstance(command, RegisterOrganisation) and not state.registered:
        return reject("unknown_reference", "organisation not registered", field="org_number")
    match command:
        case RegisterOrganisation():
            return _register(command, state)
        case AppointLeader():
            return _appoint(command)
        case GrantDelegation():
            return _delegate(command, state)
        case EndDelegation():
            return _end(command, state)
        case RegisterForSpecialty():
            return _register_training(command, state)
        case EndRegistration():
            return _end_registration(command, state)
        case _:
            assert_never(command)
