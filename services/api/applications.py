"""The digital application for specialist approval (R6, R7): the doctor applies, refused with
the blockers while not ready; the caseworker reads the frozen evidence bundle and decides."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody, QueryParameter

from services.api import cursor
from services.api.access import Access
from services.api.access_log import access_log_middleware
from services.api.dependencies import EnvelopeDep, PagingDep, PrincipalDep, ServicesDep
from services.api.problems import ProblemError
from services.api.route import get, post
from services.api.schemas import ApplicationIn, ApplicationOut, DecisionIn, Page, WriteResult
from services.api.writes import json_response
from services.application import commands as cmd
from services.clock import today
from services.rows import struct_from_row


class QueueItem(msgspec.Struct, kw_only=True):
    application_id: str
    doctor_id: str
    specialty: str
    status: str
    submitted_on: str
    decided_on: str | None


class ApplicationsController(Controller):
    path = "/api/v1"
    tags = ["specialist approval"]  # noqa: RUF012

    @post(
        "/doctors/{doctor_id:str}/applications",
        Access.DOCTOR_SELF,
        status_code=201,
        middleware=[access_log_middleware],
    )
    async def apply(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        data: JSONBody[ApplicationIn],
    ) -> Response[WriteResult]:
        """Apply for specialist approval; refused with the blockers while not ready"""
        reply = await services.applications.submit(
            str(uuid.uuid4()), doctor_id, data.specialty, today(), envelope
        )
        return json_response(reply)

    @get("/applications", Access.CASEWORKER)
    async def queue(
        self,
        services: ServicesDep,
        status: Annotated[
            Literal["submitted", "approved", "rejected", "more_information_needed"] | None,
            QueryParameter(),
        ] = None,
        *,
        paging: PagingDep,
    ) -> Page:
        """The caseworkers' queue"""
        limit = paging.limit
        rows = await services.records.queue(status, paging.after_in_feed(), limit)
        items = [
            struct_from_row(
                QueueItem,
                r,
                submitted_on=r.submitted_on.isoformat(),
                decided_on=r.decided_on.isoformat() if r.decided_on else None,
            )
            for r in rows[:limit]
        ]
        last = rows[limit - 1] if len(rows) > limit else None  # a next page exists
        next_cursor = (
            cursor.encode_feed(last.last_transaction_id, last.last_position) if last else None
        )
        return Page(items=items, next_cursor=next_cursor)

    @get(
        "/applications/{application_id:str}",
        Access.APPLICATION_READ,
        middleware=[access_log_middleware],
    )
    async def read(
        self,
        services: ServicesDep,
        principal: PrincipalDep,
        request: Request[Any, Any, Any],
        application_id: FromPath[str],
    ) -> Response[ApplicationOut]:
        """The evidence bundle as it stood when submitted, with its content hash, and every
        decision with its reason"""
        found = await services.records.application(application_id)
        if found is None:
            raise ProblemError(404, "not-found", "Not found", f"no application {application_id}")
        if (
            principal.kind == "person"
            and await services.queries.doctor_id_of(principal) != found.doctor_id
        ):
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                "only the applicant and Helsedirektoratet may read this",
            )
        # A caseworker's (or the doctor's) read of the bundle is a read of the record.
        request.scope["state"]["doctor_id"] = found.doctor_id
        body = ApplicationOut(
            application_id=application_id,
            status=found.status,
            content_hash=found.content_hash,
            bundle=found.bundle,
            decisions=msgspec.to_builtins(await services.decisions.of(application_id)),
        )
        return Response(body, headers={"ETag": f'"{found.version}"'})

    @post(
        "/applications/{application_id:str}/decision",
        Access.CASEWORKER,
        status_code=201,
        middleware=[access_log_middleware],
    )
    async def decide(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        request: Request[Any, Any, Any],
        application_id: FromPath[str],
        data: JSONBody[DecisionIn],
    ) -> Response[WriteResult]:
        """Approve, reject or ask for more information"""
        command = cmd.from_body(
            cmd.DecideApplication,
            data,
            application_id=application_id,
            decided_on=today(),
            decided_by_hpr=envelope.principal.hpr_number,
        )
        reply = await services.applications.decide(command, envelope)
        found = await services.records.application(application_id)
        if found is not None:  # the decision is a write on the doctor's record: logged
            request.scope["state"]["doctor_id"] = found.doctor_id
        return json_response(reply)
