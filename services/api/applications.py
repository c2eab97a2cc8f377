"""The digital application for specialist approval (R6, R7): the doctor applies, refused with
the blockers while not ready; the caseworker reads the frozen evidence bundle and decides."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import application as application_domain
from domain import progress as progress_domain
from domain.rejection import reject
from services.api import cursor
from services.api.access import Access, access, doctor_id_of
from services.api.access_log import access_log_middleware
from services.api.problems import ProblemError
from services.api.schemas import ApplicationIn, ApplicationOut, DecisionIn, Page, WriteResult
from services.api.writes import created, perform, rejection_problem
from services.application import bundle as bundle_model
from services.application import context_loaders
from services.application.aggregates import APPLICATION
from services.application.context import event_metadata
from services.application.streams import load, run_command
from services.clock import today
from services.read_models import states
from services.read_models.decisions import decisions_of
from services.store.idempotency import StoredResponse

Req = Request[Any, Any, Any]


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
        opt=access(Access.DOCTOR_SELF),
        status_code=201,
        middleware=[access_log_middleware],
        summary="Apply for specialist approval; refused with the blockers while not ready",
    )
    async def apply(
        self, request: Req, doctor_id: FromPath[str], data: JSONBody[ApplicationIn]
    ) -> Response[WriteResult]:
        application_id = str(uuid.uuid4())
        on = today()
        metadata = event_metadata(
            request.scope["state"]["principal"], request.scope["state"].get("request_id")
        )

        async def work(conn: AsyncConnection) -> StoredResponse:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
            catalogue = await context_loaders.current_catalogue(conn)
            readiness = progress_domain.readiness(state, catalogue, data.specialty, on)
            if not readiness.ready:
                problem = rejection_problem(
                    reject("not_ready", "not ready for specialist approval", rule="R6")
                )
                problem.problem = msgspec.structs.replace(
                    problem.problem,
                    detail="R6: not ready for specialist approval; see blockers",
                    blockers=[msgspec.to_builtins(b) for b in readiness.blockers],
                )
                raise problem
            progress = progress_domain.progress(state, catalogue, on, specialty=data.specialty)
            evidence = bundle_model.encode(
                bundle_model.build(application_id, data.specialty, on, state, catalogue, progress)
            )
            digest = bundle_model.content_hash(evidence)
            command = application_domain.SubmitApplication(
                application_id=application_id,
                doctor_id=doctor_id,
                specialty=data.specialty,
                submitted_on=on,
                content_hash=digest,
            )
            outcome = await run_command(
                conn,
                APPLICATION,
                application_id,
                expected_version=0,
                decide=lambda s, _v: application_domain.decide(command, s, readiness=readiness),
                metadata=metadata,
            )
            await conn.execute(
                text(
                    "INSERT INTO application_bundles (application_id, doctor_id, content_hash,"
                    " bundle) VALUES (:a, :d, :h, :b)"
                ),
                {"a": application_id, "d": doctor_id, "h": digest, "b": evidence},
            )
            return created(
                {"application_id": application_id, "content_hash": digest, "status": "submitted"},
                version=outcome.version,
                location=f"/api/v1/applications/{application_id}",
            )

        return await perform(request, work)

    @get("/applications", opt=access(Access.CASEWORKER), summary="The caseworkers' queue")
    async def queue(
        self,
        request: Req,
        status: Annotated[
            Literal["submitted", "approved", "rejected", "more_information_needed"] | None,
            QueryParameter(),
        ] = None,
        cursor_: Annotated[str | None, QueryParameter(name="cursor")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page:
        after = cursor.decode(cursor_)
        async with request.app.state.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT application_id, doctor_id, specialty, status, submitted_on, "
                        "decided_on, last_position FROM application_queue "
                        "WHERE (CAST(:s AS text) IS NULL OR status = :s) AND last_position > :a "
                        "ORDER BY last_position LIMIT :n"
                    ),
                    {"s": status, "a": after, "n": limit + 1},
                )
            ).all()
        items = [
            QueueItem(
                application_id=r.application_id,
                doctor_id=r.doctor_id,
                specialty=r.specialty,
                status=r.status,
                submitted_on=r.submitted_on.isoformat(),
                decided_on=r.decided_on.isoformat() if r.decided_on else None,
            )
            for r in rows[:limit]
        ]
        more = len(rows) > limit
        return Page(
            items=items, next_cursor=cursor.encode(rows[limit - 1].last_position) if more else None
        )

    @get(
        "/applications/{application_id:str}",
        opt=access(Access.APPLICATION_READ),
        middleware=[access_log_middleware],
        summary="The evidence bundle as it stood when submitted, with its content hash, and "
        "every decision with its reason",
    )
    async def read(self, request: Req, application_id: FromPath[str]) -> Response[ApplicationOut]:
        principal = request.scope["state"]["principal"]
        async with request.app.state.engine.connect() as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT doctor_id, content_hash, bundle FROM application_bundles "
                        "WHERE application_id = :a"
                    ),
                    {"a": application_id},
                )
            ).first()
            if row is None:
                raise ProblemError(
                    404, "not-found", "Not found", f"no application {application_id}"
                )
            if (
                principal.kind == "person"
                and await doctor_id_of(request.app.state, principal) != row.doctor_id
            ):
                raise ProblemError(
                    403,
                    "forbidden",
                    "Forbidden",
                    "only the applicant and Helsedirektoratet may read this",
                )
            # A caseworker's (or the doctor's) read of the bundle is a read of the record.
            request.scope["state"]["doctor_id"] = row.doctor_id
            state, version = await load(conn, APPLICATION, application_id)
            decided = await decisions_of(conn, application_id)
        body = ApplicationOut(
            application_id=application_id,
            status=state.status,
            content_hash=row.content_hash,
            bundle=msgspec.json.decode(bytes(row.bundle)),
            decisions=msgspec.to_builtins(decided),
        )
        return Response(body, headers={"ETag": f'"{version}"'})

    @post(
        "/applications/{application_id:str}/decision",
        opt=access(Access.CASEWORKER),
        status_code=201,
        middleware=[access_log_middleware],
        summary="Approve, reject or ask for more information",
    )
    async def decide(
        self, request: Req, application_id: FromPath[str], data: JSONBody[DecisionIn]
    ) -> Response[WriteResult]:
        principal = request.scope["state"]["principal"]
        command = application_domain.DecideApplication(
            application_id=application_id,
            outcome=data.outcome,
            reason=data.reason,
            decided_on=today(),
            decided_by_hpr=principal.hpr_number,
        )
        metadata = event_metadata(principal, request.scope["state"].get("request_id"))

        async def work(conn: AsyncConnection) -> StoredResponse:
            outcome = await run_command(
                conn,
                APPLICATION,
                application_id,
                expected_version=None,
                decide=lambda s, _v: application_domain.decide(command, s),
                metadata=metadata,
            )
            request.scope["state"]["doctor_id"] = outcome.state.doctor_id  # the access log
            return created(
                {"application_id": application_id, "status": outcome.state.status},
                version=outcome.version,
            )

        return await perform(request, work)
