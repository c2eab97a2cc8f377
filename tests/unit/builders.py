"""Given-when-then helpers for the domain tests: a small world of two institutions, the
sample catalogue and a registered doctor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from domain import organisation
from domain.assessment_rules import is_appointed_veileder, is_supervisor_at
from domain.authority import Issuer
from domain.catalogue import Catalogue
from domain.catalogue import decide as catalogue_decide
from domain.catalogue import evolve as catalogue_evolve
from domain.catalogues import sample_versions
from domain.doctor import decide as doctor_decide
from domain.doctor.commands import (
    ApproveObjective,
    AssessObjective,
    AssignSupervisor,
    DoctorCommand,
    RecordServicePeriod,
    RegisterDoctor,
)
from domain.doctor.state import DoctorState, fold
from domain.organisation import OrganisationState
from domain.rejection import Rejection
from events.doctor import DoctorEvent
from events.vocabulary import OrganisationKind

HOSPITAL = "983974899"
MUNICIPALITY = "964338531"
OTHER_HOSPITAL = "974749025"
LEADER_H = "1000001"
LEADER_M = "1000002"
DELEGATE_M = "1000003"
LEADER_OTHER = "1000004"
VEILEDER = "2000001"
DOCTOR = "doc-1"
V1 = "sample-2020-03-01"
V2 = "sample-2024-09-01"


def d(text: str) -> date:
    return date.fromisoformat(text)


def sample_catalogue(versions: int = 2) -> Catalogue:
    cat = Catalogue()
    for cmd in sample_versions()[:versions]:
        events = catalogue_decide(cmd, cat)
        assert isinstance(events, list), events
        for e in events:
            cat = catalogue_evolve(cat, e)
    return cat


def org(org_number: str, kind: OrganisationKind, leader: str, *commands: Any) -> OrganisationState:
    state = OrganisationState()
    cmds = [
        organisation.RegisterOrganisation(
            org_number=org_number,
            name=f"Inst {org_number}",
            kind=kind,
            registered_on=d("2015-01-01"),
        ),
        organisation.AppointLeader(
            org_number=org_number, hpr_number=leader, valid_from=d("2015-01-01")
        ),
        *commands,
    ]
    for c in cmds:
        events = organisation.decide(c, state)
        assert isinstance(events, list), events
        state = organisation.fold(state, events)
    return state


def organisations() -> dict[str, OrganisationState]:
    return {
        HOSPITAL: org(HOSPITAL, "hospital_trust", LEADER_H),
        MUNICIPALITY: org(
            MUNICIPALITY,
            "municipality",
            LEADER_M,
            organisation.GrantDelegation(
                org_number=MUNICIPALITY,
                delegation_id="del-1",
                leader_hpr=LEADER_M,
                delegate_hpr=DELEGATE_M,
                valid_from=d("2021-01-01"),
                valid_to=d("2021-06-30"),
            ),
        ),
        OTHER_HOSPITAL: org(OTHER_HOSPITAL, "hospital_trust", LEADER_OTHER),
    }


class World:
    """A doctor's state plus the context; ``do`` applies a command or returns its rejection."""

    def __init__(self, authorised_on: date = date(2020, 1, 1)) -> None:
        self.catalogue = sample_catalogue()
        self.orgs = organisations()
        self.state = DoctorState()
        self.events: list[DoctorEvent] = []
        self.ok(
            RegisterDoctor(
                doctor_id=DOCTOR, authorised_on=authorised_on, registered_on=authorised_on
            )
        )

    def try_(
        self, command: DoctorCommand, issuer: Issuer | None = None
    ) -> list[DoctorEvent] | Rejection:
        result = doctor_decide.decide(
            command, self.state, catalogue=self.catalogue, organisations=self.orgs, issuer=issuer
        )
        if isinstance(result, list):
            self.events += result
            self.state = fold(self.state, result)
        return result

    def ok(self, command: DoctorCommand, issuer: Issuer | None = None) -> list[DoctorEvent]:
        result = self.try_(command, issuer)
        assert isinstance(result, list), result
        return result

    def rejected(self, command: DoctorCommand, issuer: Issuer | None = None) -> Rejection:
        before = self.state
        result = self.try_(command, issuer)
        assert isinstance(result, Rejection), result
        assert self.state == before  # nothing stored
        return result

    def period(
        self,
        period_id: str,
        start: str,
        end: str | None,
        *,
        part: int = 1,
        arena: str | None = "hospital",
        fte: int = 100,
        org_number: str | None = None,
        **kw: Any,
    ) -> None:
        if org_number is None:
            org_number = MUNICIPALITY if arena == "municipal" else HOSPITAL
        self.ok(
            RecordServicePeriod(
                doctor_id=DOCTOR,
                period_id=period_id,
                org_number=org_number,
                part=part,  # type: ignore[arg-type]
                arena=arena,  # type: ignore[arg-type]
                position="LIS",
                fte_percent=fte,
                start=d(start),
                end=d(end) if end else None,
                **kw,
            )
        )

    def assess(
        self, objective_id: str, org_number: str, on: str, outcome: str = "achieved"
    ) -> None:
        """An assessment that counts (R5): by the appointed veileder if ``VEILEDER`` is one,
        else by ``VEILEDER`` as a supervisør at the institution (assigned here if needed, a
        role that raises no R13/R14 blocker of its own)."""
        role = "veileder" if is_appointed_veileder(self.state, VEILEDER, d(on)) else None
        if role is None:
            role = "clinical_supervisor"
            if not is_supervisor_at(self.state, VEILEDER, org_number, d(on)):
                self.ok(
                    AssignSupervisor(
                        doctor_id=DOCTOR,
                        org_number=org_number,
                        hpr_number=VEILEDER,
                        role="clinical_supervisor",
                        valid_from=d("2000-01-01"),
                        part=1,
                    )
                )
        self.ok(
            AssessObjective(
                doctor_id=DOCTOR,
                objective_id=objective_id,
                org_number=org_number,
                assessor_hpr=VEILEDER,
                assessor_role=role,  # type: ignore[arg-type]
                outcome=outcome,  # type: ignore[arg-type]
                assessed_on=d(on),
            )
        )

    def approve(self, objective_id: str, org_number: str, approver: str, on: str) -> Any:
        return self.try_(
            ApproveObjective(
                doctor_id=DOCTOR,
                objective_id=objective_id,
                org_number=org_number,
                approver_hpr=approver,
                approved_on=d(on),
            )
        )


def ids(blockers: Iterable[Any]) -> list[str]:
    return [b.rule for b in blockers]
