"""Relations are granted, not self-declared (issue 13; RULES.md "Reach into a record"): the
doctor lists, confirms and disputes organisations' relations; a claimed organisation reads
back its own facts; the directorate confirms relations and resolves conflicting identities.
The handlers are :mod:`services.application.relations`, the reads
:mod:`services.read_models.relations`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody

from services.api.access import Access
from services.api.dependencies import EnvelopeDep, MyDoctorIdDep, PrincipalDep, ServicesDep
from services.api.route import RecordController, get, post
from services.api.schemas import PRINTABLE
from services.api.writes import json_response
from services.read_models.relations import ClaimedFacts, Flags, RelationOut

Req = Request[Any, Any, Any]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=PRINTABLE)]


class DisputeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class ResolutionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class MyOrganisationsController(RecordController):
    """The doctor sees every organisation with a relation to them, or claiming one, and
    confirms or disputes it."""

    path = "/api/v1/me/organisations"

    @get("/", Access.DOCTOR_ME)
    async def list_relations(
        self, services: ServicesDep, my_doctor_id: MyDoctorIdDep
    ) -> list[RelationOut]:
        """Every organisation related to me or claiming to be: since when, on what basis, status
        (confirmed, claimed, disputed)"""
        return await services.relation_queries.relations_of(my_doctor_id)

    @post("/{org_number:str}/confirmation", Access.DOCTOR_ME, status_code=200)
    async def confirm(
        self,
        services: ServicesDep,
        my_doctor_id: MyDoctorIdDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
    ) -> Response[Any]:
        """Confirm an organisation's relation: it may then read my wider record"""
        reply = await services.relations.confirm(my_doctor_id, org_number, "doctor", envelope)
        return json_response(reply)

    @post("/{org_number:str}/dispute", Access.DOCTOR_ME, status_code=200)
    async def dispute(
        self,
        services: ServicesDep,
        my_doctor_id: MyDoctorIdDep,
        envelope: EnvelopeDep,
        org_number: FromPath[str],
        data: JSONBody[DisputeIn],
    ) -> Response[Any]:
        """Dispute an organisation's relation: its facts are flagged for the directorate"""
        reply = await services.relations.dispute(my_doctor_id, org_number, data.reason, envelope)
        return json_response(reply)


class DoctorRelationsController(RecordController):
    path = "/api/v1/doctors/{doctor_id:str}"

    @get("/claims", Access.ORGANISATION_RELATED)
    async def claims(
        self, services: ServicesDep, principal: PrincipalDep, doctor_id: FromPath[str]
    ) -> ClaimedFacts:
        """An organisation reads back the facts it recorded itself (any relation status)"""
        return await services.relation_queries.claimed_facts(
            doctor_id, principal.own_orgs(), str(principal.org_number)
        )

    @post("/organisations/{org_number:str}/confirmation", Access.DIRECTORATE, status_code=200)
    async def confirm(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        doctor_id: FromPath[str],
        org_number: FromPath[str],
    ) -> Response[Any]:
        """Helsedirektoratet confirms (or, after a dispute, restores) a relation"""
        reply = await services.relations.confirm(doctor_id, org_number, "directorate", envelope)
        return json_response(reply)


class DirectorateFlagsController(Controller):
    """What the directorate resolves: disputed relations and conflicting identities."""

    path = "/api/v1"
    tags = ["a doctor's record"]  # noqa: RUF012

    @get("/flags", Access.DIRECTORATE)
    async def flags(self, services: ServicesDep) -> Flags:
        """Disputed relations and open identity conflicts (Helsedirektoratet)"""
        return await services.relation_queries.flags()

    @post("/identity-conflicts/{conflict_id:str}/resolution", Access.DIRECTORATE, status_code=200)
    async def resolve(
        self,
        services: ServicesDep,
        envelope: EnvelopeDep,
        conflict_id: FromPath[str],
        data: JSONBody[ResolutionIn],
    ) -> Response[Any]:
        """Helsedirektoratet resolves a conflicting identity (the reason is recorded)"""
        return json_response(await services.relations.resolve(conflict_id, data.reason, envelope))
