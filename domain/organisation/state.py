"""A training institution's state: leaders and delegations (R5), who may approve on its
behalf on a given date, and the fold over its events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import assert_never

import msgspec

from domain.copying import copy_as
from events import organisation as ev
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


r = msgspec.structs.replace


def _ended(state: OrganisationState, e: ev.DelegationEnded) -> OrganisationState:
    old = state.delegations.get(e.delegation_id)
    if old is None:
        return state
    return r(state, delegations={**state.delegations, e.delegation_id: r(old, ended_on=e.ended_on)})


def _registration_ended(
    state: OrganisationState, e: ev.TrainingRegistrationEnded
) -> OrganisationState:
    old = state.registrations.get(e.registration_id)
    if old is None:
        return state
    done = r(old, ended_on=e.ended_on)
    return r(state, registrations={**state.registrations, e.registration_id: done})


def registered_for(org: OrganisationState, specialty: str, start: date, end: date) -> bool:
    """R16: the organisation is registered for ``specialty`` on every day from ``start`` to
    ``end`` (registrations may follow each other without a gap)."""
    day = start
    spans = sorted(
        (x for x in org.registrations.values() if x.specialty == specialty),
        key=lambda x: x.valid_from,
    )
    for x in spans:
        if x.valid_from > day:
            break
        last = x.last_day()
        if last is None:
            return True
        if last >= day:
            if last >= end:
                return True
            day = date.fromordinal(last.toordinal() + 1)
    return day > end


def evolve(state: OrganisationState, event: ev.OrganisationEvent) -> OrganisationState:
    """One line per event type; ``assert_never`` makes mypy refuse a forgotten one."""
    match event:
        case ev.OrganisationRegistered():
            kind, name = event.kind, event.name
            return r(state, org_number=event.org_number, name=name, kind=kind, registered=True)
        case ev.LeaderAppointed():
            return r(state, leaders=(*state.leaders, copy_as(Leadership, event)))
        case ev.DelegationGranted():
            d = copy_as(Delegation, event)
            return r(state, delegations={**state.delegations, d.delegation_id: d})
        case ev.DelegationEnded():
            return _ended(state, event)
        case ev.TrainingRegistrationRecorded():
            reg = copy_as(TrainingRegistration, event)
            return r(state, registrations={**state.registrations, reg.registration_id: reg})
        case ev.TrainingRegistrationEnded():
            return _registration_ended(state, event)
        case _:
            assert_never(event)


def fold(state: OrganisationState, events: Iterable[ev.OrganisationEvent]) -> OrganisationState:
    for e in events:
        state = evolve(state, e)
    return state
