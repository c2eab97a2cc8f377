"""Training institutions: registration, leaders, delegations (API.md "Organisations")."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, delete, post
from litestar.params import FromPath, JSONBody

from services.api.access import Access, access
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.schemas import (
    DelegationIn,
    LeaderIn,
    OrganisationIn,
    RegistrationEndIn,
    RegistrationIn,
    WriteResult,
)
from services.api.writes import json_response
from services.application import commands as cmd
from services.clock import today


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]  # noqa: RUF012

    @post("/", opt=access(Access.ADMIN), summary="Register a training institution", status_code=201)
    async def register(
        self, services: ServicesDep, envelope: EnvelopeDep, data: JSONBody[OrganisationIn]
    ) -> Response[WriteResult]:
        command = cmd.from_body(cmd.RegisterOrganisation, data, registered_on=today())
        echo = {"org_number": data.org_number}
        return json_response(await services.institutions.organisation(command, envelope, echo))

    @post(
        "/{org_number:str}/leaders",
        opt=access(Access.ORGANISATION_SELF),
        summary="Appoint a leader who approves objectives",
        status_code=201,
    )
    async def appoint_leader(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        data: JSONBody[LeaderIn],
    ) -> Response[WriteResult]:
        command = cmd.from_body(cmd.AppointLeader, data, org_number=org_number)
        echo = {"org_number": org_number, "hpr_number": data.hpr_number}
        return json_response(await services.institutions.organisation(command, envelope, echo))

    @post(
        "/{org_number:str}/delegations",
        opt=access(Access.ORGANISATION_SELF),
        summary="A leader delegates approval",
        status_code=201,
    )
    async def delegate(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        data: JSONBody[DelegationIn],
    ) -> Response[WriteResult]:
        delegation_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.GrantDelegation, data, org_number=org_number, delegation_id=delegation_id
        )
        echo = {"delegation_id": delegation_id, "org_number": org_number}
        return json_response(await services.institutions.organisation(command, envelope, echo))

    @delete(
        "/{org_number:str}/delegations/{delegation_id:str}",
        opt=access(Access.ORGANISATION_SELF),
        summary="End a delegation",
        status_code=200,
    )
    async def end_delegation(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        delegation_id: FromPath[str],
    ) -> Response[WriteResult]:
        command = cmd.EndDelegation(
            org_number=org_number, delegation_id=delegation_id, ended_on=today()
        )
        echo = {"delegation_id": delegation_id, "ended": True}
        reply = await services.institutions.organisation(command, envelope, echo, status=200)
        return json_response(reply)

    @post(
        "/{org_number:str}/registrations",
        opt=access(Access.ADMIN),
        summary="Register as utdanningsvirksomhet for a specialty (R16, the directorate)",
        status_code=201,
    )
    async def register_training(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        data: JSONBody[RegistrationIn],
    ) -> Response[WriteResult]:
        registration_id = str(uuid.uuid4())
        command = cmd.from_body(
            cmd.RegisterForSpecialty,
            data,
            org_number=org_number,
            registration_id=registration_id,
        )
        echo = {"registration_id": registration_id, "org_number": org_number}
        return json_response(await services.institutions.organisation(command, envelope, echo))

    @post(
        "/{org_number:str}/registrations/{registration_id:str}/end",
        opt=access(Access.ADMIN),
        summary="Withdraw an R16 registration by a dated end (the directorate)",
        status_code=201,
    )
    async def end_training(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        registration_id: FromPath[str],
        data: JSONBody[RegistrationEndIn],
    ) -> Response[WriteResult]:
        command = cmd.EndRegistration(
            org_number=org_number, registration_id=registration_id, ended_on=data.ended_on
        )
        echo = {"registration_id": registration_id, "ended": True}
        return json_response(await services.institutions.organisation(command, envelope, echo))
