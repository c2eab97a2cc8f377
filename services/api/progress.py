"""Reading progress: a doctor's own, an employer's view of its doctors, the directorate's;
the organisation work list; and the doctor's progress page (HTML, bokmål)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter
from sqlalchemy import text

from domain import progress as progress_domain
from domain.doctor_state import DoctorState
from domain.rulesets import rule_set
from services.api.access import Access, access, doctor_id_of
from services.api.access_log import access_log_middleware
from services.api.input_limits import check_date
from services.api.problems import ProblemError
from services.api.progress_page import render_page
from services.api.relations import relations_of
from services.application import context_loaders
from services.clock import today
from services.read_models import states
from services.read_models import worklist as worklist_model
from services.read_models.decisions import decisions_of

Req = Request[Any, Any, Any]
AsOf = Annotated[date | None, QueryParameter(description="the state on this past date")]
RuleSetId = Annotated[
    str | None,
    QueryParameter(
        name="rule_set",
        pattern=r"^[a-z0-9-]{1,40}$",
        description='"what if": evaluate under another rule set, e.g. proposed-2024',
    ),
]


async def compute(
    request: Req,
    doctor_id: str,
    as_of: date | None,
    rule_set_id: str | None,
    specialty: str | None = None,
) -> tuple[progress_domain.Progress, int, DoctorState]:
    check_date("as_of", as_of)
    on = as_of or today()
    try:
        rules = rule_set(rule_set_id) if rule_set_id else None
    except KeyError as err:
        raise ProblemError(
            400,
            "invalid-input",
            "Invalid input",
            f"rule_set: unknown rule set {rule_set_id}",
            field="rule_set",
        ) from err
    async with request.app.state.engine.connect() as conn:
        state, version = await states.read(conn, states.DOCTORS, doctor_id)
        # The folded catalogue is kept per process and refreshed when its stream moves.
        catalogue = await context_loaders.current_catalogue(conn)
    result = progress_domain.progress(state, catalogue, on, rules=rules, specialty=specialty)
    return result, version, state


async def applications_of(request: Req, doctor_id: str) -> list[dict[str, Any]]:
    """The doctor's applications and their state, from the event store (not a projection:
    a doctor who just applied sees it at once)."""
    from services.application.aggregates import APPLICATION
    from services.application.streams import load

    out = []
    async with request.app.state.engine.connect() as conn:
        ids = (
            await conn.scalars(
                text(
                    "SELECT application_id FROM application_bundles WHERE doctor_id = :d "
                    "ORDER BY application_id"
                ),
                {"d": doctor_id},
            )
        ).all()
        for application_id in ids:
            state, _ = await load(conn, APPLICATION, application_id)
            out.append(
                {
                    "application_id": application_id,
                    "specialty": state.specialty,
                    "status": state.status,
                    "submitted_on": state.submitted_on,
                    "decisions": msgspec.to_builtins(await decisions_of(conn, application_id)),
                }
            )
    return sorted(out, key=lambda a: (a["submitted_on"], a["application_id"]))


async def as_json(
    request: Req, result: progress_domain.Progress, version: int, state: DoctorState
) -> Response[Any]:
    body = msgspec.to_builtins(result)
    body["applications"] = msgspec.to_builtins(await applications_of(request, result.doctor_id))
    body["approval_requests"] = msgspec.to_builtins(
        sorted(state.approval_requests.values(), key=lambda r: r.objective_id)
    )
    return Response(body, headers={"ETag": f'"{version}"'})


async def my_doctor_id(request: Req) -> str:
    """The doctor a person's token belongs to; also noted for the access log."""
    doctor_id = await doctor_id_of(request.app.state, request.scope["state"]["principal"])
    if doctor_id is None:
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            "no doctor is registered with your HPR or identity number",
        )
    request.scope["state"]["doctor_id"] = doctor_id
    return doctor_id


class ProgressController(Controller):
    path = "/api/v1"
    tags = ["progress"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @get(
        "/doctors/{doctor_id:str}/progress",
        opt=access(Access.DOCTOR_RECORD),
        summary="Per part: objectives, counted service time (R8/R10), absence, blockers",
    )
    async def progress(
        self,
        request: Req,
        doctor_id: FromPath[str],
        as_of: AsOf = None,
        rule_set_id: RuleSetId = None,
        specialty: Annotated[
            str | None, QueryParameter(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$")
        ] = None,
    ) -> Response[Any]:
        return await as_json(
            request, *await compute(request, doctor_id, as_of, rule_set_id, specialty)
        )

    @get("/me/progress", opt=access(Access.DOCTOR_ME), summary="A doctor's own progress")
    async def my_progress(
        self, request: Req, as_of: AsOf = None, rule_set_id: RuleSetId = None
    ) -> Response[Any]:
        doctor_id = await my_doctor_id(request)
        return await as_json(request, *await compute(request, doctor_id, as_of, rule_set_id))

    @get(
        "/me/progress/page",
        opt=access(Access.DOCTOR_ME),
        media_type="text/html",
        summary="The doctor's progress page (HTML, Norwegian bokmål)",
    )
    async def my_page(self, request: Req, as_of: AsOf = None) -> Response[str]:
        doctor_id = await my_doctor_id(request)
        result, _, _ = await compute(request, doctor_id, as_of, None)
        async with request.app.state.engine.connect() as conn:
            name = await conn.scalar(
                text("SELECT name FROM people WHERE doctor_id = :d"), {"d": doctor_id}
            )
            related = await relations_of(conn, doctor_id)
        applications = await applications_of(request, doctor_id)
        return Response(
            render_page(
                result,
                name,
                [(a["specialty"], a["status"]) for a in applications],
                related,
                decisions=[a["decisions"] for a in applications],
            ),
            media_type="text/html",
        )


class WorklistController(Controller):
    path = "/api/v1/organisations/{org_number:str}/worklist"
    tags = ["organisations"]  # noqa: RUF012

    @get(
        "/",
        opt=access(Access.ORGANISATION_SELF),
        summary="Doctors in service, assessed-not-approved, without veileder, missing "
        "confirmations (R14)",
    )
    async def worklist(self, request: Req, org_number: FromPath[str]) -> worklist_model.Worklist:
        async with request.app.state.engine.connect() as conn:
            doctor_ids = (
                await conn.scalars(
                    text(
                        "SELECT doctor_id FROM doctor_organisations WHERE org_number = :o "
                        "AND status = 'confirmed' ORDER BY doctor_id"
                    ),
                    {"o": org_number},
                )
            ).all()
            doctors = [(await states.read(conn, states.DOCTORS, d))[0] for d in doctor_ids]
        return worklist_model.build(org_number, doctors, today())
