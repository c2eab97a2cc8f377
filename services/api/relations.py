"""Relations are granted, not self-declared (issue 13; RULES.md "Reach into a record").

An organisation stands in a relation to a doctor with a status:
- ``confirmed``: it registered the doctor, or the doctor (or the directorate) confirmed it;
  it reads the doctor's wider record.
- ``claimed``: it recorded service for (or tried to register) a doctor someone else
  registered; it may record its own facts and read back only those
  (``GET /api/v1/doctors/{id}/claims``).
- ``disputed``: the doctor disputes it; its facts are flagged for the directorate, and it may
  record nothing more until the directorate confirms the relation.

The status lives in ``doctor_organisations``, written in the same transaction as the event
that changes it (so authorisation never lags a write), and every change is an event on the
doctor's stream (``events.relations``), which carries internal ids only.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.base import Event
from events.relations import (
    IdentityConflictFlagged,
    IdentityConflictResolved,
    OrganisationConfirmed,
    OrganisationDisputed,
    OrganisationRelated,
)
from services.api.access import Access, access, doctor_id_of
from services.api.access_log import access_log_middleware
from services.api.problems import ProblemError
from services.api.schemas import PRINTABLE
from services.api.writes import created, expected_version, perform
from services.application import context_loaders
from services.application.aggregates import DOCTOR
from services.application.context import event_metadata
from services.application.streams import run_command
from services.clock import today
from services.read_models import states
from services.store.idempotency import StoredResponse

Req = Request[Any, Any, Any]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=PRINTABLE)]


# Writing relations (inside a write's transaction, before its run_command) -------------------
async def status_of(conn: AsyncConnection, doctor_id: str, org_number: str) -> str | None:
    found = await conn.scalar(
        text("SELECT status FROM doctor_organisations WHERE doctor_id = :d AND org_number = :o"),
        {"d": doctor_id, "o": org_number},
    )
    return str(found) if found is not None else None


async def relate(
    conn: AsyncConnection, doctor_id: str, org_number: str, *, basis: str, status: str
) -> list[Event]:
    """The organisation's relation, if it has none yet: a row and the event saying so."""
    inserted = await conn.scalar(
        text(
            "INSERT INTO doctor_organisations (doctor_id, org_number, status, basis) "
            "VALUES (:d, :o, :s, :b) ON CONFLICT DO NOTHING RETURNING org_number"
        ),
        {"d": doctor_id, "o": org_number, "s": status, "b": basis},
    )
    if inserted is None:
        return []
    return [
        OrganisationRelated(
            doctor_id=doctor_id,
            org_number=org_number,
            basis=basis,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            related_on=today(),
        )
    ]


async def flag_identity_conflicts(
    conn: AsyncConnection, doctor_id: str, national_id: str | None
) -> list[Event]:
    """A national identity number another record (or this one, differently) holds: both are
    kept, the conflict is recorded for the directorate. Nothing of it reaches the caller."""
    if national_id is None:
        return []
    others = (
        await conn.execute(
            text(
                "SELECT doctor_id FROM people WHERE national_id = :p AND doctor_id <> :d "
                "UNION SELECT doctor_id FROM people WHERE doctor_id = :d "
                "AND national_id IS NOT NULL AND national_id <> :p ORDER BY 1"
            ),
            {"p": national_id, "d": doctor_id},
        )
    ).scalars()
    flagged: list[Event] = []
    for other in others:
        conflict_id = str(uuid.uuid4())
        await conn.execute(
            text(
                "INSERT INTO identity_conflicts (conflict_id, doctor_id, other_doctor_id, field) "
                "VALUES (:c, :d, :o, 'national_id')"
            ),
            {"c": conflict_id, "d": doctor_id, "o": other},
        )
        flagged.append(
            IdentityConflictFlagged(
                doctor_id=doctor_id,
                conflict_id=conflict_id,
                other_doctor_id=str(other),
                field="national_id",
                flagged_on=today(),
            )
        )
    return flagged


async def set_status(
    conn: AsyncConnection, doctor_id: str, org_number: str, status: str, reason: str | None
) -> None:
    await conn.execute(
        text(
            "UPDATE doctor_organisations SET status = :s, status_since = now(), "
            "dispute_reason = :r WHERE doctor_id = :d AND org_number = :o"
        ),
        {"s": status, "r": reason, "d": doctor_id, "o": org_number},
    )


async def append(request: Req, conn: AsyncConnection, doctor_id: str, events: list[Event]) -> int:
    metadata = event_metadata(
        request.scope["state"]["principal"], request.scope["state"].get("request_id")
    )
    outcome = await run_command(
        conn,
        DOCTOR,
        doctor_id,
        expected_version=expected_version(request),
        decide=lambda _state, _version: events,
        metadata=metadata,
    )
    return outcome.version


# Reading them --------------------------------------------------------------------------------
class RelationOut(msgspec.Struct, kw_only=True):
    org_number: str
    name: str | None
    basis: str
    status: str
    since: str
    status_since: str
    dispute_reason: str | None = None


async def relations_of(conn: AsyncConnection, doctor_id: str) -> list[RelationOut]:
    rows = (
        await conn.execute(
            text(
                "SELECT org_number, basis, status, since, status_since, dispute_reason "
                "FROM doctor_organisations WHERE doctor_id = :d ORDER BY since, org_number"
            ),
            {"d": doctor_id},
        )
    ).all()
    names = await context_loaders.organisations(conn, {r.org_number for r in rows})
    return [
        RelationOut(
            org_number=r.org_number,
            name=names[r.org_number].name if r.org_number in names else None,
            basis=r.basis,
            status=r.status,
            since=r.since.date().isoformat(),
            status_since=r.status_since.date().isoformat(),
            dispute_reason=r.dispute_reason,
        )
        for r in rows
    ]


class DisputeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class ResolutionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    reason: Reason


class RelationResult(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    status: str
    version: int


async def my_doctor(request: Req) -> str:
    doctor_id = await doctor_id_of(request.app.state, request.scope["state"]["principal"])
    if doctor_id is None:
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            "no doctor is registered with your HPR or identity number",
        )
    request.scope["state"]["doctor_id"] = doctor_id  # for the access log
    return doctor_id


async def change_status(
    request: Req, doctor_id: str, org_number: str, status: str, event: Event, reason: str | None
) -> Response[Any]:
    async def work(conn: AsyncConnection) -> StoredResponse:
        current = await status_of(conn, doctor_id, org_number)
        if current is None:
            raise ProblemError(
                404,
                "not-found",
                "Not found",
                f"org_number: organisation {org_number} has no relation to this doctor",
                field="org_number",
            )
        await set_status(conn, doctor_id, org_number, status, reason)
        version = await append(request, conn, doctor_id, [event])
        return created(
            RelationResult(
                doctor_id=doctor_id, org_number=org_number, status=status, version=version
            ),
            version=version,
            status=200,
        )

    return await perform(request, work)


class MyOrganisationsController(Controller):
    """The doctor sees every organisation with a relation to them, or claiming one, and
    confirms or disputes it."""

    path = "/api/v1/me/organisations"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @get(
        "/",
        opt=access(Access.DOCTOR_ME),
        summary="Every organisation related to me or claiming to be: since when, on what "
        "basis, status (confirmed, claimed, disputed)",
    )
    async def list_relations(self, request: Req) -> list[RelationOut]:
        doctor_id = await my_doctor(request)
        async with request.app.state.engine.connect() as conn:
            return await relations_of(conn, doctor_id)

    @post(
        "/{org_number:str}/confirmation",
        opt=access(Access.DOCTOR_ME),
        status_code=200,
        summary="Confirm an organisation's relation: it may then read my wider record",
    )
    async def confirm(self, request: Req, org_number: FromPath[str]) -> Response[Any]:
        doctor_id = await my_doctor(request)
        event = OrganisationConfirmed(
            doctor_id=doctor_id, org_number=org_number, confirmed_by="doctor", confirmed_on=today()
        )
        return await change_status(request, doctor_id, org_number, "confirmed", event, None)

    @post(
        "/{org_number:str}/dispute",
        opt=access(Access.DOCTOR_ME),
        status_code=200,
        summary="Dispute an organisation's relation: its facts are flagged for the directorate",
    )
    async def dispute(
        self, request: Req, org_number: FromPath[str], data: JSONBody[DisputeIn]
    ) -> Response[Any]:
        doctor_id = await my_doctor(request)
        event = OrganisationDisputed(
            doctor_id=doctor_id, org_number=org_number, reason=data.reason, disputed_on=today()
        )
        return await change_status(request, doctor_id, org_number, "disputed", event, data.reason)


class ClaimedFacts(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    status: str
    periods: list[Any]
    absences: list[Any]
    confirmations: list[Any]
    supervisors: list[Any]
    assessments: list[Any]
    approvals: list[Any]
    supervision_hours: list[Any]


class DoctorRelationsController(Controller):
    path = "/api/v1/doctors/{doctor_id:str}"
    tags = ["a doctor's record"]  # noqa: RUF012
    middleware = [access_log_middleware]  # noqa: RUF012

    @get(
        "/claims",
        opt=access(Access.ORGANISATION_RELATED),
        summary="An organisation reads back the facts it recorded itself (any relation status)",
    )
    async def claims(self, request: Req, doctor_id: FromPath[str]) -> ClaimedFacts:
        p = request.scope["state"]["principal"]
        own = {o for o in (p.org_number, p.parent_org_number) if o}
        async with request.app.state.engine.connect() as conn:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
            statuses = [await status_of(conn, doctor_id, o) for o in sorted(own)]
        periods = [v for v in state.periods.values() if v.org_number in own]
        ids = {v.period_id for v in periods}
        b = msgspec.to_builtins
        return ClaimedFacts(
            doctor_id=doctor_id,
            org_number=str(p.org_number),
            status=next((s for s in ("confirmed", "claimed", "disputed") if s in statuses), ""),
            periods=b(periods),
            absences=b([a for a in state.absences.values() if a.period_id in ids]),
            confirmations=b([c for k, c in state.confirmations.items() if k in ids]),
            supervisors=b([s for s in state.supervisors if s.org_number in own]),
            assessments=b([a for a in state.assessments if a.org_number in own]),
            approvals=b([a for a in state.approvals if a.org_number in own]),
            supervision_hours=b(
                [h for h in state.supervision_hours.values() if h.org_number in own]
            ),
        )

    @post(
        "/organisations/{org_number:str}/confirmation",
        opt=access(Access.DIRECTORATE),
        status_code=200,
        summary="Helsedirektoratet confirms (or, after a dispute, restores) a relation",
    )
    async def confirm(
        self, request: Req, doctor_id: FromPath[str], org_number: FromPath[str]
    ) -> Response[Any]:
        event = OrganisationConfirmed(
            doctor_id=doctor_id,
            org_number=org_number,
            confirmed_by="directorate",
            confirmed_on=today(),
        )
        return await change_status(request, doctor_id, org_number, "confirmed", event, None)


class DisputedRelation(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    basis: str
    since: str
    disputed_since: str
    reason: str | None


class IdentityConflict(msgspec.Struct, kw_only=True):
    conflict_id: str
    doctor_id: str
    other_doctor_id: str
    field: str
    flagged_on: str


class Flags(msgspec.Struct, kw_only=True):
    disputed_relations: list[DisputedRelation]
    identity_conflicts: list[IdentityConflict]


class DirectorateFlagsController(Controller):
    """What the directorate resolves: disputed relations and conflicting identities."""

    path = "/api/v1"
    tags = ["a doctor's record"]  # noqa: RUF012

    @get(
        "/flags",
        opt=access(Access.DIRECTORATE),
        summary="Disputed relations and open identity conflicts (Helsedirektoratet)",
    )
    async def flags(self, request: Req) -> Flags:
        async with request.app.state.engine.connect() as conn:
            disputed = (
                await conn.execute(
                    text(
                        "SELECT doctor_id, org_number, basis, since, status_since, "
                        "dispute_reason FROM doctor_organisations WHERE status = 'disputed' "
                        "ORDER BY status_since LIMIT 1000"
                    )
                )
            ).all()
            conflicts = (
                await conn.execute(
                    text(
                        "SELECT conflict_id, doctor_id, other_doctor_id, field, flagged_at "
                        "FROM identity_conflicts WHERE resolved_at IS NULL "
                        "ORDER BY flagged_at LIMIT 1000"
                    )
                )
            ).all()
        return Flags(
            disputed_relations=[
                DisputedRelation(
                    doctor_id=r.doctor_id,
                    org_number=r.org_number,
                    basis=r.basis,
                    since=r.since.date().isoformat(),
                    disputed_since=r.status_since.date().isoformat(),
                    reason=r.dispute_reason,
                )
                for r in disputed
            ],
            identity_conflicts=[
                IdentityConflict(
                    conflict_id=r.conflict_id,
                    doctor_id=r.doctor_id,
                    other_doctor_id=r.other_doctor_id,
                    field=r.field,
                    flagged_on=r.flagged_at.date().isoformat(),
                )
                for r in conflicts
            ],
        )

    @post(
        "/identity-conflicts/{conflict_id:str}/resolution",
        opt=access(Access.DIRECTORATE),
        status_code=200,
        summary="Helsedirektoratet resolves a conflicting identity (the reason is recorded)",
    )
    async def resolve(
        self, request: Req, conflict_id: FromPath[str], data: JSONBody[ResolutionIn]
    ) -> Response[Any]:
        async def work(conn: AsyncConnection) -> StoredResponse:
            doctor_id = await conn.scalar(
                text(
                    "UPDATE identity_conflicts SET resolved_at = now(), resolution = :r "
                    "WHERE conflict_id = :c AND resolved_at IS NULL RETURNING doctor_id"
                ),
                {"r": data.reason, "c": conflict_id},
            )
            if doctor_id is None:
                raise ProblemError(
                    404,
                    "not-found",
                    "Not found",
                    f"conflict_id: no open identity conflict {conflict_id}",
                    field="conflict_id",
                )
            event = IdentityConflictResolved(
                doctor_id=doctor_id,
                conflict_id=conflict_id,
                reason=data.reason,
                resolved_on=today(),
            )
            version = await append(request, conn, str(doctor_id), [event])
            return created(
                {"conflict_id": conflict_id, "doctor_id": doctor_id, "status": "resolved"},
                version=version,
                status=200,
            )

        return await perform(request, work)
