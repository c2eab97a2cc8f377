"""A training institution: leaders and delegations (R5). State, evolve, decide, and who may
approve on the institution's behalf on a given date."""

from __future__ import annotations

from datetime import date

import msgspec

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
from events.vocabulary import OrganisationKind


class Leadership(msgspec.Struct, frozen=True, kw_only=True):
    hpr_number: str
    valid_from: date
    valid_to: date | None = None

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


class Delegation(msgspec.Struct, frozen=True, kw_only=True):
    delegation_id: str
    leader_hpr: str
    delegate_hpr: str
    valid_from: date
    valid_to: date | None = None
    ended_on: date | None = None

    def valid_on(self, on: date) -> bool:
        last = min((d for d in (self.valid_to, self.ended_on) if d is not None), default=None)
        return self.valid_from <= on and (last is None or on <= last)


class TrainingRegistration(msgspec.Struct, frozen=True, kw_only=True):
    """R16: registered as utdanningsvirksomhet for a specialty, by the directorate."""

    registration_id: str
    specialty: str
    valid_from: date
    valid_to: date | None = None
    ended_on: date | None = None

    def last_day(self) -> date | None:
        return min((d for d in (self.valid_to, self.ended_on) if d is not None), default=None)

    def valid_on(self, on: date) -> bool:
        last = self.last_day()
        return self.valid_from <= on and (last is None or on <= last)


class OrganisationState(msgspec.Struct, frozen=True, kw_only=True):
    org_number: str = ""
    name: str = ""
    kind: OrganisationKind | None = None
    registered: bool = False
    leaders: tuple[Leadership, ...] = ()
    delegations: dict[str, Delegation] = {}
    registrations: dict[str, TrainingRegistration] = {}  # R16

    def is_leader(self, hpr: str, on: date) -> bool:
        return any(lead.hpr_number == hpr and lead.valid_on(on) for lead in self.leaders)


class Authority(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts and who is accountable (R5)."""

    approver_hpr: str
    leader_hpr: str
    delegation_id: str | None = None


def authority(org: OrganisationState, hpr: str, on: date) -> Authority | None:
    """R5: ``hpr`` may approve for ``org`` on ``on`` as its leader, or as delegate under a
    delegation valid that day from someone who is leader that day."""
    if org.is_leader(hpr, on):
        return Authority(approver_hpr=hpr, leader_hpr=hpr)
    for d in sorted(org.delegations.values(), key=lambda d: d.delegation_id):
        if d.delegate_hpr == hpr and d.valid_on(on) and org.is_leader(d.leader_hpr, on):
            return Authority(
                approver_hpr=hpr, leader_hpr=d.leader_hpr, delegation_id=d.delegation_id
            )
    return None


def evolve(state: OrganisationState, event: OrganisationEvent) -> OrganisationState:
    match event:
        case OrganisationRegistered():
            return msgspec.structs.replace(
                state,
                org_number=event.org_number,
                name=event.name,
                kind=event.kind,
                registered=True,
            )
        case LeaderAppointed():
            lead = Leadership(
                hpr_number=event.hpr_number, valid_from=event.valid_from, valid_to=event.valid_to
            )
            return msgspec.structs.replace(state, leaders=(*state.leaders, lead))
        case DelegationGranted():
            d = Delegation(
                delegation_id=event.delegation_id,
                leader_hpr=event.leader_hpr,
                delegate_hpr=event.delegate_hpr,
                valid_from=event.valid_from,
                valid_to=event.valid_to,
            )
            return msgspec.structs.replace(
                state, delegations={**state.delegations, d.delegation_id: d}
            )
        case DelegationEnded():
            old = state.delegations.get(event.delegation_id)
            if old is None:
                return state
            ended = msgspec.structs.replace(old, ended_on=event.ended_on)
            return msgspec.structs.replace(
                state, delegations={**state.delegations, old.delegation_id: ended}
            )
        case TrainingRegistrationRecorded():
            reg = TrainingRegistration(
                registration_id=event.registration_id,
                specialty=event.specialty,
                valid_from=event.valid_from,
                valid_to=event.valid_to,
            )
            return msgspec.structs.replace(
                state, registrations={**state.registrations, reg.registration_id: reg}
            )
        case TrainingRegistrationEnded():
            found = state.registrations.get(event.registration_id)
            if found is None:
                return state
            done = msgspec.structs.replace(found, ended_on=event.ended_on)
            return msgspec.structs.replace(
                state, registrations={**state.registrations, done.registration_id: done}
            )
    return state


# --- commands -------------------------------------------------------------------------------


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
) -> list[OrganisationEvent] | Rejection:
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
            if state.registered:
                return reject("duplicate", "organisation already registered", field="org_number")
            if not command.name.strip():
                return reject("invalid_value", "name is empty", field="name")
            return [
                OrganisationRegistered(
                    org_number=command.org_number,
                    name=command.name,
                    kind=command.kind,
                    registered_on=command.registered_on,
                )
            ]
        case AppointLeader():
            if command.valid_to is not None and command.valid_to < command.valid_from:
                return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
            return [
                LeaderAppointed(
                    org_number=command.org_number,
                    hpr_number=command.hpr_number,
                    valid_from=command.valid_from,
                    valid_to=command.valid_to,
                )
            ]
        case GrantDelegation():
            if command.delegation_id in state.delegations:
                return reject("duplicate", "delegation id exists", field="delegation_id")
            if command.valid_to is not None and command.valid_to < command.valid_from:
                return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
            if command.delegate_hpr == command.leader_hpr:
                return reject(
                    "invalid_value", "a leader cannot delegate to self", field="delegate_hpr"
                )
            if not state.is_leader(command.leader_hpr, command.valid_from):
                return reject(
                    "rule_violation",
                    "leader_hpr is not a leader of this organisation on valid_from (R5)",
                    field="leader_hpr",
                    rule="R5",
                )
            return [
                DelegationGranted(
                    org_number=command.org_number,
                    delegation_id=command.delegation_id,
                    leader_hpr=command.leader_hpr,
                    delegate_hpr=command.delegate_hpr,
                    valid_from=command.valid_from,
                    valid_to=command.valid_to,
                )
            ]
        case EndDelegation():
            d = state.delegations.get(command.delegation_id)
            if d is None:
                return reject("unknown_reference", "no such delegation", field="delegation_id")
            if d.ended_on is not None:
                return reject("duplicate", "delegation already ended", field="delegation_id")
            return [
                DelegationEnded(
                    org_number=command.org_number,
                    delegation_id=command.delegation_id,
                    ended_on=command.ended_on,
                )
            ]
        case RegisterForSpecialty():
            if command.registration_id in state.registrations:
                return reject("duplicate", "registration_id exists", field="registration_id")
            if command.valid_to is not None and command.valid_to < command.valid_from:
                return reject("invalid_value", "valid_to is before valid_from", field="valid_to")
            if not command.specialty.strip():
                return reject("invalid_value", "specialty is empty", field="specialty", rule="R16")
            return [
                TrainingRegistrationRecorded(
                    org_number=command.org_number,
                    registration_id=command.registration_id,
                    specialty=command.specialty,
                    valid_from=command.valid_from,
                    valid_to=command.valid_to,
                )
            ]
        case EndRegistration():
            reg = state.registrations.get(command.registration_id)
            if reg is None:
                return reject("unknown_reference", "no such registration", field="registration_id")
            if reg.ended_on is not None:
                return reject("duplicate", "registration already ended", field="registration_id")
            if command.ended_on < reg.valid_from:
                return reject(
                    "invalid_value", "ended_on is before valid_from", field="ended_on", rule="R16"
                )
            return [
                TrainingRegistrationEnded(
                    org_number=command.org_number,
                    registration_id=command.registration_id,
                    ended_on=command.ended_on,
                )
            ]
    raise TypeError(f"not an organisation command: {command!r}")


def registered_for(org: OrganisationState, specialty: str, start: date, end: date) -> bool:
    """R16: the organisation is registered for ``specialty`` on every day from ``start`` to
    ``end`` (registrations may follow each other without a gap)."""
    day = start
    spans = sorted(
        (r for r in org.registrations.values() if r.specialty == specialty),
        key=lambda r: r.valid_from,
    )
    for r in spans:
        if r.valid_from > day:
            break
        last = r.last_day()
        if last is None:
            return True
        if last >= day:
            if last >= end:
                return True
            day = date.fromordinal(last.toordinal() + 1)
    return day > end


def fold(state: OrganisationState, events: list[OrganisationEvent]) -> OrganisationState:
    for e in events:
        state = evolve(state, e)
    return state
