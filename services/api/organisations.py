"""Training institutions: registration, leaders, delegations (API.md "Organisations")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.params import QueryParameter

from services.api.access import Access
from services.api.dependencies import ServicesDep
from services.api.route import get
from services.api.schemas import (
    DelegationIn,
    LeaderIn,
    OrganisationIn,
    RegistrationEndIn,
    RegistrationIn,
)
from services.api.write_routes import Sent, WriteRoutes, creates, to_organisation
from services.application import commands as cmd
from services.clock import today

ORGANISATION_WRITES = WriteRoutes("/api/v1/organisations", to_organisation, tags=["organisations"])


@ORGANISATION_WRITES.post("/", Access.ADMIN)
def register(data: OrganisationIn) -> Sent:
    """Register a training institution"""
    command = cmd.from_body(cmd.RegisterOrganisation, data, registered_on=today())
    return Sent(command, {"org_number": data.org_number})


@ORGANISATION_WRITES.post("/{org_number:str}/leaders", Access.ORGANISATION_SELF)
def appoint_leader(org_number: str, data: LeaderIn) -> Sent:
    """Appoint a leader who approves objectives"""
    command = cmd.from_body(cmd.AppointLeader, data, org_number=org_number)
    return Sent(command, {"org_number": org_number, "hpr_number": data.hpr_number})


@ORGANISATION_WRITES.post("/{org_number:str}/delegations", Access.ORGANISATION_SELF)
def delegate(org_number: str, data: DelegationIn) -> Sent:
    """A leader delegates approval"""
    echo = {"org_number": org_number}
    return creates(cmd.GrantDelegation, data, "delegation_id", echo, org_number=org_number)


@ORGANISATION_WRITES.delete(
    "/{org_number:str}/delegations/{delegation_id:str}", Access.ORGANISATION_SELF
)
def end_delegation(org_number: str, delegation_id: str) -> Sent:
    """End a delegation"""
    command = cmd.EndDelegation(
        org_number=org_number, delegation_id=delegation_id, ended_on=today()
    )
    return Sent(command, {"delegation_id": delegation_id, "ended": True})


@ORGANISATION_WRITES.post("/{org_number:str}/registrations", Access.ADMIN)
def register_training(org_number: str, data: RegistrationIn) -> Sent:
    """Register as utdanningsvirksomhet for a specialty (R16, the directorate)"""
    echo = {"org_number": org_number}
    return creates(cmd.RegisterForSpecialty, data, "registration_id", echo, org_number=org_number)


@ORGANISATION_WRITES.post("/{org_number:str}/registrations/{registration_id:str}/end", Access.ADMIN)
def end_training(org_number: str, registration_id: str, data: RegistrationEndIn) -> Sent:
    """Withdraw an R16 registration by a dated end (the directorate)"""
    command = cmd.from_body(
        cmd.EndRegistration, data, org_number=org_number, registration_id=registration_id
    )
    return Sent(command, {"registration_id": registration_id, "ended": True})


@get("/", Access.AUTHENTICATED)
async def institutions(
    services: ServicesDep,
    specialty: Annotated[
        str | None, QueryParameter(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$")
    ] = None,
) -> list[dict[str, Any]]:
    """Organisations with their registrations as utdanningsvirksomhet (R16), filtered by
    ?specialty="""
    # The catalogue of institutions (issue 15), read from the organisations' states.
    return await services.casework.institutions(specialty, today())
