"""The objective catalogue (annex 2): read by anyone authenticated, published by the
directorate's admin (API.md "Catalogue")."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response
from litestar.params import JSONBody, QueryParameter

from services.aggregates import CATALOGUE_ID
from services.api.access import Access
from services.api.dependencies import EnvelopeDep, ServicesDep
from services.api.problems import ProblemError
from services.api.route import get, post
from services.api.schemas import CatalogueVersionIn, WriteResult
from services.api.writes import json_response
from services.application import commands as cmd
from services.clock import today


class ObjectiveOut(msgspec.Struct, kw_only=True):
    id: str
    part: int
    specialty: str | None
    common: bool
    arena: str | None
    title: str
    version: str


class ObjectivesOut(msgspec.Struct, kw_only=True):
    catalogue_id: str
    version: str
    effective_from: str
    label: str
    items: list[ObjectiveOut]


def publish_command(data: CatalogueVersionIn) -> cmd.PublishCatalogueVersion:
    return cmd.PublishCatalogueVersion(
        catalogue_id=CATALOGUE_ID,
        version=data.version,
        effective_from=data.effective_from,
        objectives=tuple(cmd.from_body(cmd.ObjectiveSpec, o) for o in data.objectives),
        changes=tuple(cmd.from_body(cmd.ObjectiveChange, c) for c in data.carry_over),
        label=data.label,
    )


class CatalogueController(Controller):
    path = "/api/v1/catalogue"
    tags = ["catalogue"]  # noqa: RUF012

    @get("/objectives", Access.AUTHENTICATED)
    async def objectives(
        self,
        services: ServicesDep,
        part: Annotated[int | None, QueryParameter(ge=1, le=3)] = None,
        specialty: Annotated[
            str | None, QueryParameter(pattern=r"^[a-zæøå][a-zæøå0-9_-]{1,59}$")
        ] = None,
        version: Annotated[str | None, QueryParameter(pattern=r"^[A-Za-z0-9._-]{1,40}$")] = None,
    ) -> ObjectivesOut:
        """Objectives with id, part, specialty or common, arena and title"""
        catalogue = await services.queries.catalogue()
        chosen = catalogue.get(version) if version else catalogue.version_on(today())
        if chosen is None:
            chosen = catalogue.latest() if version is None else None
        if chosen is None:
            raise ProblemError(
                404,
                "not-found",
                "Not found",
                f"no catalogue version {version or 'in force'}",
                field="version" if version else None,
            )
        items = [
            ObjectiveOut(
                id=o.id,
                part=o.part,
                specialty=o.specialty,
                common=o.specialty is None,
                arena=o.arena,
                title=o.title,
                version=chosen.version,
            )
            for o in chosen.objectives.values()
            if (part is None or o.part == part)
            and (specialty is None or o.specialty in (None, specialty))
        ]
        return ObjectivesOut(
            catalogue_id=catalogue.catalogue_id,
            version=chosen.version,
            effective_from=chosen.effective_from.isoformat(),
            label=chosen.label,
            items=sorted(items, key=lambda o: o.id),
        )

    @post("/versions", Access.ADMIN, status_code=201)
    async def publish(
        self, services: ServicesDep, envelope: EnvelopeDep, data: JSONBody[CatalogueVersionIn]
    ) -> Response[WriteResult]:
        """Publish a catalogue version with its effective date and carry-over"""
        reply = await services.institutions.publish_catalogue(publish_command(data), envelope)
        return json_response(reply)
