"""Decisions on a training institution: one small function per command, dispatched by a
``match`` that ends in ``assert_never``."""

from __future__ import annotations

from typing import assert_never

from domain.copying import copy_as
from domain.organisation.commands import (
    AppointLeader,
    EndDelegation,
    GrantDelegation,
    OrganisationCommand,
    RegisterOrganisation,
)
from domain.organisation.state import OrganisationState
from domain.rejection import Rejection, reject
from events.organisation import (
    DelegationEnded,
    DelegationGranted,
    LeaderAppointed,
    OrganisationEvent,
    OrganisationRegistered,
)

Decision = list[OrganisationEvent] | Rejection


def _register(cmd: RegisterOrganisation, state: OrganisationState) -> Decision:
    if state.registered:
        return reject("duplicate", "organisation already registered", field="org_number")
    if not cmd.name.strip():
        return reject("invalid_value", "name is empty", field="name")
    return [copy_as(OrganisationRegistered, cmd)]


def _appoint(cmd: AppointLeader, _state: OrganisationState) -> Decision:
    if cmd.valid_to is not None and cmd.valid_to < cmd.valid_from:
        return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
    return [copy_as(LeaderAppointed, cmd)]


def _delegate(cmd: GrantDelegation, state: OrganisationState) -> Decision:
    if cmd.delegation_id in state.delegations:
        return reject("duplicate", "delegation id exists", field="delegation_id")
    if cmd.valid_to is not None and cmd.valid_to < cmd.valid_from:
        return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
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
    d = state.delegations.get(cmd.delegation_id)
    if d is None:
        return reject("unknown_reference", "no such delegation", field="delegation_id")
    if d.ended_on is not None:
        return reject("duplicate", "delegation already ended", field="delegation_id")
    return [copy_as(DelegationEnded, cmd)]


def decide(command: OrganisationCommand, state: OrganisationState) -> Decision:
    if not isinstance(command, RegisterOrganisation) and not state.registered:
        return reject("unknown_reference", "organisation not registered", field="org_number")
    match command:
        case RegisterOrganisation():
            return _register(command, state)
        case AppointLeader():
            return _appoint(command, state)
        case GrantDelegation():
            return _delegate(command, state)
        case EndDelegation():
            return _end(command, state)
        case _:
            assert_never(command)
