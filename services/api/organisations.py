"""Training institutions: registration, leaders, delegations (API.md "Organisations")."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, post
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import organisation as org_domain
from domain.identifiers import check_org_number
from services.api.access import Access, access
from services.api.problems import ProblemError
from services.api.schemas import (
    DelegationIn,
    LeaderIn,
    OrganisationIn,
    RegistrationEndIn,
    RegistrationIn,
    WriteResult,
)
from services.api.writes import created, perform
from services.application.aggregates import ORGANISATION, organisation_stream
from services.application.authority import issuer_of
from services.application.context import event_metadata
from services.application.streams import run_command
from services.clock import today
from services.store.idempotency import StoredResponse


def valid_org_number(value: str, field: str = "org_number") -> str:
    reason = check_org_number(value)
    if reason is not None:
        raise ProblemError(
            400,
            "invalid-org-number",
            "Invalid organisation number",
            f"{field}: {reason}",
            field=field,
        )
    return value


def metadata(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return event_metadata(
        request.scope["state"]["principal"], request.scope["state"].get("request_id")
    )


async def org_command(
    request: Request[Any, Any, Any],
    org_number: FromPath[str],
    command: Any,
    body: Any,
    status: int = 201,
) -> Response[WriteResult]:
    issuer = issuer_of(request.scope["state"]["principal"])

    async def work(conn: AsyncConnection) -> StoredResponse:
        outcome = await run_command(
            conn,
            ORGANISATION,
            organisation_stream(org_number),
            expected_version=None,
            # RULES.md authority: the directorate registers, the organisation appoints.
            decide=lambda state, _version: org_domain.decide(
                command,
                state,
                issuer_kind=issuer.kind,
                issuer_org=issuer.org_number
                if issuer.org_number == org_number
                else issuer.parent_org_number,
            ),
            metadata=metadata(request),
        )
        return created(body, version=outcome.version, status=status)

    return await perform(request, work)


class OrganisationsController(Controller):
    path = "/api/v1/organisations"
    tags = ["organisations"]  # noqa: RUF012

    @post("/", opt=access(Access.ADMIN), summary="Register a training institution", status_code=201)
    async def register(
        self, request: Request[Any, Any, Any], data: JSONBody[OrganisationIn]
    ) -> Response[WriteResult]:
        valid_org_number(data.org_number)
        command = org_domain.RegisterOrganisation(
            org_number=data.org_number, name=data.name, kind=data.kind, registered_on=today()
        )
        return await org_command(request, data.org_number, command, {"org_number": data.org_number})

    @post(
        "/{org_number:str}/leaders",
        opt=access(Access.ORGANISATION_SELF),
        summary="Appoint a leader who approves objectives",
        status_code=201,
    )
    async def appoint_leader(
        self, request: Request[Any, Any, Any], org_number: FromPath[str], data: JSONBody[LeaderIn]
    ) -> Response[WriteResult]:
        command = org_domain.AppointLeader(
            org_number=org_number,
            hpr_number=data.hpr_number,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        )
        return await org_command(
            request, org_number, command, {"org_number": org_number, "hpr_number": data.hpr_number}
        )

    @post(
        "/{org_number:str}/delegations",
        opt=access(Access.ORGANISATION_SELF),
        summary="A leader delegates approval",
        status_code=201,
    )
    async def delegate(
        self,
        request: Request[Any, Any, Any],
        org_number: FromPath[str],
        data: JSONBody[DelegationIn],
    ) -> Response[WriteResult]:
        delegation_id = str(uuid.uuid4())
        command = org_domain.GrantDelegation(
            org_number=org_number,
            delegation_id=delegation_id,
            leader_hpr=data.leader_hpr,
            delegate_hpr=data.delegate_hpr,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        )
        return await org_command(
            request, org_number, command, {"delegation_id": delegation_id, "org_number": org_number}
        )

    @delete(
        "/{org_number:str}/delegations/{delegation_id:str}",
        opt=access(Access.ORGANISATION_SELF),
        summary="End a delegation",
        status_code=200,
    )
    async def end_delegation(
        self,
        request: Request[Any, Any, Any],
        org_number: FromPath[str],
        delegation_id: FromPath[str],
    ) -> Response[WriteResult]:
        command = org_domain.EndDelegation(
            org_number=org_number, delegation_id=delegation_id, ended_on=today()
        )
        return await org_command(
            request,
            org_number,
            command,
            {"delegation_id": delegation_id, "ended": True},
            status=200,
        )

    @post(
        "/{org_number:str}/registrations",
        opt=access(Access.ADMIN),
        summary="Register as utdanningsvirksomhet for a specialty (R16, the directorate)",
        status_code=201,
    )
    async def register_training(
        self,
        request: Request[Any, Any, Any],
        org_number: FromPath[str],
        data: JSONBody[RegistrationIn],
    ) -> Response[WriteResult]:
        registration_id = str(uuid.uuid4())
        command = org_domain.RegisterForSpecialty(
            org_number=org_number,
            registration_id=registration_id,
            specialty=data.specialty,
            valid_from=data.valid_from,
            valid_to=data.valid_to,
        )
        return await org_command(
            request,
            org_number,
            command,
            {"registration_id": registration_id, "org_number": org_number},
        )

    @post(
        "/{org_number:str}/registrations/{registration_id:str}/end",
        opt=access(Access.ADMIN),
        summary="Withdraw an R16 registration by a dated end (the directorate)",
        status_code=201,
    )
    async def end_training(
        self,
        request: Request[Any, Any, Any],
        org_number: FromPath[str],
        registration_id: FromPath[str],
        data: JSONBody[RegistrationEndIn],
    ) -> Response[WriteResult]:
        command = org_domain.EndRegistration(
            org_number=org_number, registration_id=registration_id, ended_on=data.ended_on
        )
        return await org_command(
            request,
            org_number,
            command,
            {"registration_id": registration_id, "ended": True},
        )
