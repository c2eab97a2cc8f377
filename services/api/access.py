"""Who may do what: every route declares one access rule, and one guard enforces it.

Deny by default: a route without a declared rule answers 403 for everyone. Actor,
organisation and time come from the token and the server, never from the body.
"""

from __future__ import annotations

import enum
import re
from typing import Any, NamedTuple

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import text

from services.api.problems import ProblemError

OPENAPI_PATH = "/schema"
# Every id in a path is made of these: anything else names nothing we hold.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class Access(enum.Enum):
    PUBLIC = "public"  # operations endpoints and the OpenAPI document
    AUTHENTICATED = "authenticated"  # any valid token (catalogue)
    ADMIN = "admin"  # Helsedirektoratet admin
    CASEWORKER = "caseworker"  # Helsedirektoratet caseworker
    ORGANISATION_SELF = "organisation_self"  # the organisation named in the path
    REGISTER_DOCTOR = "register_doctor"  # an organisation or the directorate
    EMPLOYER_OF_DOCTOR = "employer_of_doctor"  # an organisation the doctor has/had service at
    NEW_OR_CURRENT_EMPLOYER = "new_or_current_employer"  # any organisation (body org checked)
    DOCTOR_RECORD = "doctor_record"  # the doctor, their employers, the directorate
    DOCTOR_SELF = "doctor_self"  # only the doctor
    DOCTOR_SELF_OR_DIRECTORATE = "doctor_self_or_directorate"
    DOCTOR_ME = "doctor_me"  # a person token: the doctor resolves from the token
    ORGANISATION = "organisation"  # any organisation client (batch)
    EMPLOYER_OR_DIRECTORATE = "employer_or_directorate"  # exceptions
    APPLICATION_READ = "application_read"  # the applicant or a caseworker
    CONFIRMED_EMPLOYER = "confirmed_employer"  # its relation confirmed (approvals)
    ORGANISATION_RELATED = "organisation_related"  # an org with any relation: its own facts
    DIRECTORATE = "directorate"  # a caseworker or admin of Helsedirektoratet


def access(rule: Access) -> dict[str, Any]:
    """Route option declaring the access rule: ``@post(..., opt=access(Access.X))``."""
    return {"access": rule}


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", "Forbidden", detail)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", detail)


async def authorise(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The one guard: authenticate (unless public), then apply the route's rule."""
    rule = handler.opt.get("access")
    if rule is Access.PUBLIC or connection.scope["path"].startswith(OPENAPI_PATH + "/"):
        return
    from services.api.authentication import principal_of

    principal = await principal_of(connection)
    for name, value in connection.path_params.items():
        if not isinstance(value, str) or not SAFE_ID.fullmatch(value):
            raise not_found(f"{name}: no such {name.removesuffix('_id')}")
    if rule is None:
        raise forbidden("this operation is not open to any caller")
    state = connection.app.state
    kind = principal.kind
    directorate = kind in ("caseworker", "admin")
    params = connection.path_params

    match rule:
        case Access.AUTHENTICATED:
            return
        case Access.ADMIN:
            if kind != "admin":
                raise forbidden("requires a Helsedirektoratet admin token")
        case Access.CASEWORKER:
            if kind != "caseworker":
                raise forbidden("requires a Helsedirektoratet caseworker token")
        case Access.ORGANISATION:
            if kind != "organisation":
                raise forbidden("requires an organisation's client token")
        case Access.ORGANISATION_SELF:
            if kind != "organisation" or params["org_number"] not in _orgs_of(principal):
                raise forbidden("an organisation may act only for itself")
        case Access.REGISTER_DOCTOR:
            if kind not in ("organisation", "admin", "caseworker"):
                raise forbidden("doctors are registered by an organisation or the directorate")
        case Access.NEW_OR_CURRENT_EMPLOYER:
            relation = await _relation(state, params["doctor_id"], principal)
            if kind != "organisation":
                raise forbidden("requires an organisation's client token")
            if relation.disputed and not relation.employs:
                raise forbidden(DISPUTED)
        case Access.EMPLOYER_OF_DOCTOR:
            relation = await _relation(state, params["doctor_id"], principal)
            if kind != "organisation":
                raise forbidden("requires an organisation's client token (the employer)")
            if not relation.employs:
                raise forbidden(DISPUTED if relation.disputed else NO_SERVICE)
        case Access.CONFIRMED_EMPLOYER:
            # An approval rests on the wider record (others' assessments, the doctor's path),
            # which a claimed organisation may not read: it approves once confirmed.
            relation = await _relation(state, params["doctor_id"], principal)
            if kind != "organisation":
                raise forbidden("requires an organisation's client token (the employer)")
            if not relation.confirmed:
                if relation.employs:
                    raise forbidden(CLAIMED_WRITE)
                raise forbidden(DISPUTED if relation.disputed else NO_SERVICE)
        case Access.EMPLOYER_OR_DIRECTORATE:
            relation = await _relation(state, params["doctor_id"], principal)
            if not (directorate or kind == "organisation"):
                raise forbidden("requires the employer's client token or Helsedirektoratet")
            if not (directorate or relation.confirmed):
                if relation.employs:
                    raise forbidden(CLAIMED_WRITE)
                raise forbidden(DISPUTED if relation.disputed else NO_SERVICE)
        case Access.DOCTOR_RECORD:
            # An organisation reads the wider record only once its relation is confirmed,
            # by the doctor or the directorate (RULES.md "Reach into a record").
            relation = await _relation(state, params["doctor_id"], principal)
            if not (
                directorate or relation.is_self or (kind == "organisation" and relation.confirmed)
            ):
                if kind == "organisation" and relation.employs:
                    raise forbidden(CLAIMED)
                raise forbidden("not your record, nor a doctor you have or had in service")
        case Access.ORGANISATION_RELATED:
            relation = await _relation(state, params["doctor_id"], principal)
            if kind != "organisation" or not (relation.employs or relation.disputed):
                raise forbidden("requires an organisation that recorded facts for this doctor")
        case Access.DIRECTORATE:
            if params.get("doctor_id") is not None:
                await _relation(state, params["doctor_id"], principal)  # 404 when unknown
            if not directorate:
                raise forbidden("requires a Helsedirektoratet caseworker or admin token")
        case Access.DOCTOR_SELF:
            relation = await _relation(state, params["doctor_id"], principal)
            if not relation.is_self:
                raise forbidden("only the doctor may do this")
        case Access.DOCTOR_SELF_OR_DIRECTORATE:
            relation = await _relation(state, params["doctor_id"], principal)
            if not (directorate or relation.is_self):
                raise forbidden("only the doctor and Helsedirektoratet may read this")
        case Access.DOCTOR_ME:
            if kind != "person":
                raise forbidden("requires a person's token")
        case Access.APPLICATION_READ:
            if kind not in ("person", "caseworker", "admin"):
                raise forbidden("only the applicant and Helsedirektoratet may read applications")
        case _:
            raise forbidden("this operation is not open to any caller")


NO_SERVICE = "the doctor has no service period at your organisation"
CLAIMED = (
    "your organisation's relation to this doctor is claimed, not confirmed: read back your "
    "own facts at /api/v1/doctors/{doctor_id}/claims until the doctor or Helsedirektoratet "
    "confirms it"
)
CLAIMED_WRITE = (
    "your organisation's relation to this doctor is claimed, not confirmed: this rests on the "
    "doctor's wider record, so it waits until the doctor or Helsedirektoratet confirms it"
)
DISPUTED = (
    "the doctor disputes your organisation's relation; Helsedirektoratet resolves it, "
    "and until then your organisation records nothing more for this doctor"
)


def _orgs_of(principal: Any) -> set[str]:
    """The acting unit and its legal entity: an institution may be registered as either."""
    return {o for o in (principal.org_number, principal.parent_org_number) if o}


class Relation(NamedTuple):
    employs: bool  # an organisation of the caller has a relation, claimed or confirmed
    is_self: bool  # the caller is the doctor
    confirmed: bool = False  # ... and it is confirmed: it reads the wider record
    disputed: bool = False  # an organisation of the caller has a disputed relation


_RELATION = text(
    """
    SELECT p.doctor_id IS NOT NULL AS known,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status <> 'disputed') AS employs,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status = 'confirmed') AS confirmed,
           EXISTS (SELECT 1 FROM doctor_organisations o WHERE o.doctor_id = :d
                   AND o.org_number = ANY(:orgs) AND o.status = 'disputed') AS disputed,
           (p.erased_at IS NULL AND ((CAST(:h AS text) IS NOT NULL AND p.hpr_number = :h)
                                     OR (CAST(:p AS text) IS NOT NULL AND p.national_id = :p)))
               AS is_self
    FROM (SELECT 1) AS one LEFT JOIN people p ON p.doctor_id = :d
    """
)


async def _relation(state: Any, doctor_id: str, principal: Any) -> Relation:
    """How the caller stands to the doctor, in one round trip; 404 for an unknown doctor."""
    person = principal.kind == "person"
    async with state.engine.connect() as conn:
        row = (
            await conn.execute(
                _RELATION,
                {
                    "d": doctor_id,
                    "orgs": sorted(_orgs_of(principal)),
                    "h": principal.hpr_number if person else None,
                    "p": principal.pid if person else None,
                },
            )
        ).one()
    if not row.known:
        raise not_found(f"no doctor with id {doctor_id}")
    return Relation(
        employs=bool(row.employs),
        is_self=bool(row.is_self),
        confirmed=bool(row.confirmed),
        disputed=bool(row.disputed),
    )


async def doctor_id_of(state: Any, principal: Any) -> str | None:
    """The doctor a person's token belongs to (by HPR number or national identity)."""
    if principal.kind != "person" or not (principal.hpr_number or principal.pid):
        return None
    async with state.engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT doctor_id FROM people WHERE erased_at IS NULL AND "
                "((CAST(:h AS text) IS NOT NULL AND hpr_number = :h) OR "
                " (CAST(:p AS text) IS NOT NULL AND national_id = :p)) "
                # A national identity number may be on several records (a conflict the
                # directorate resolves): the HPR number decides, then the oldest record.
                "ORDER BY (hpr_number IS NOT DISTINCT FROM :h) DESC, created_at, doctor_id "
                "LIMIT 1"
            ),
            {"h": principal.hpr_number, "p": principal.pid},
        )
    return str(found) if found else None
