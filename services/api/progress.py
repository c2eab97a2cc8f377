"""Reading progress: a doctor's own, an employer's view of its doctors, the directorate's;
the organisation work list; and the doctor's progress page (HTML, bokmål)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response
from litestar.params import FromPath, QueryParameter

from services.api.access import Access
from services.api.access_log import access_log_middleware
from services.api.dependencies import AnyRequest, PrincipalDep, ServicesDep, my_doctor_id_of
from services.api.input_limits import check_date
from services.api.progress_page import render_page
from services.api.route import get
from services.api.training_page import training_sections, training_year
from services.clock import today
from services.read_models.queries import ProgressView
from services.read_models.worklist import Worklist

AsOf = Annotated[date | None, QueryParameter(description="the state on this past date")]
RuleSetId = Annotated[
    str | None,
    QueryParameter(
        name="rule_set",
        pattern=r"^[a-z0-9-]{1,40}$",
        description='"what if": evaluate under another rule set, e.g. proposed-2024',
    ),
]


async def as_json(services: ServicesDep, view: ProgressView) -> Response[Any]:
    body = msgspec.to_builtins(view.progress)
    body["applications"] = await services.queries.applications_of(view.progress.doctor_id)
    body["approval_requests"] = view.approval_requests
    return Response(body, headers={"ETag": f'"{view.version}"'})


class ProgressController(Controller):
    path = "/api/v1"
    tags = ["progress"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @get("/doctors/{doctor_id:str}/progress", Access.DOCTOR_RECORD)
    async def progress(
        self,
        services: ServicesDep,
        doctor_id: FromPath[str],
        as_of: AsOf = None,
        rule_set_id: RuleSetId = None,
        specialty: Annotated[
            str | None, QueryParameter(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$")
        ] = None,
    ) -> Response[Any]:
        """Per part: objectives, counted service time (R8/R10), absence, blockers"""
        check_date("as_of", as_of)
        view = await services.queries.progress(doctor_id, as_of or today(), rule_set_id, specialty)
        return await as_json(services, view)

    # The two /me reads with an ``as_of`` look the caller's record up themselves, after the
    # date's check: a bad date is a 400 even for a token with no doctor record (the
    # ``my_doctor_id`` dependency would run first and answer 404).
    @get("/me/progress", Access.DOCTOR_ME)
    async def my_progress(
        self,
        services: ServicesDep,
        principal: PrincipalDep,
        request: AnyRequest,
        as_of: AsOf = None,
        rule_set_id: RuleSetId = None,
    ) -> Response[Any]:
        """A doctor's own progress"""
        check_date("as_of", as_of)
        doctor_id = await my_doctor_id_of(services, principal, request)
        view = await services.queries.progress(doctor_id, as_of or today(), rule_set_id, None)
        return await as_json(services, view)

    @get("/me/progress/page", Access.DOCTOR_ME, media_type="text/html")
    async def my_page(
        self,
        services: ServicesDep,
        principal: PrincipalDep,
        request: AnyRequest,
        as_of: AsOf = None,
    ) -> Response[str]:
        """The doctor's progress page (HTML, Norwegian bokmål)"""
        check_date("as_of", as_of)
        doctor_id = await my_doctor_id_of(services, principal, request)
        view = await services.queries.progress(doctor_id, as_of or today(), None, None)
        name = await services.queries.name_of(doctor_id)
        applications = await services.queries.applications_of(doctor_id)
        year = await training_year(services, doctor_id, applications)
        related = await services.relation_queries.relations_of(doctor_id)
        return Response(
            render_page(
                view.progress,
                name,
                [(a["specialty"], a["status"]) for a in applications],
                related,
                decisions=[a["decisions"] for a in applications],
                extra=training_sections(view.progress, year),
            ),
            media_type="text/html",
        )


class WorklistController(Controller):
    path = "/api/v1/organisations/{org_number:str}/worklist"
    tags = ["organisations"]  # noqa: RUF012

    @get("/", Access.ORGANISATION_SELF)
    async def worklist(self, services: ServicesDep, org_number: FromPath[str]) -> Worklist:
        """Doctors in service, assessed-not-approved, without veileder, missing confirmations
        (R14)"""
        return await services.queries.worklist(org_number, today())
