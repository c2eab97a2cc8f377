"""Who may do what: every route declares one access rule, and one guard enforces it.

Deny by default: a route without a declared rule answers 403 for everyone. Actor,
organisation and time come from the token and the server, never from the body.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.api.authentication import principal_of
from services.api.dependencies import services_of
from services.api.problems import ProblemError
from services.identity.principal import Principal
from services.read_models.queries import Queries, Relation

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
    DOCTOR_SELF_OR_EMPLOYER = "doctor_self_or_employer"  # the doctor or an employer (training)
    CONFIRMED_EMPLOYER = "confirmed_employer"  # its relation confirmed (approvals)
    ORGANISATION_RELATED = "organisation_related"  # an org with any relation: its own facts
    DIRECTORATE = "directorate"  # a caseworker or admin of Helsedirektoratet


def access(rule: Access) -> dict[str, Any]:
    """Route option declaring the access rule (services/api/route.py: ``@post(path, Access.X)``)."""
    return {"access": rule}


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", "Forbidden", detail)


def not_found(detail: str) -> ProblemError:
    return ProblemError(404, "not-found", "Not found", detail)


@dataclass(frozen=True)
class Caller:
    """What a rule looks at: the principal, the path's parameters, and how the caller stands
    to the doctor in the path (asked of the read side only when a rule needs it)."""

    principal: Principal
    params: dict[str, Any]
    queries: Queries

    @property
    def kind(self) -> str:
        return self.principal.kind

    @property
    def directorate(self) -> bool:
        return self.principal.kind in ("caseworker", "admin")

    @property
    def organisation(self) -> bool:
        return self.principal.kind == "organisation"

    async def relation(self) -> Relation:
        """404 for an unknown doctor, whoever asks."""
        doctor_id = str(self.params["doctor_id"])
        found = await self.queries.relation(doctor_id, self.principal)
        if found is None:
            raise not_found(f"no doctor with id {doctor_id}")
        return found


def _kind_is(kind: str, refusal: str) -> Callable[[Caller], Awaitable[None]]:
    async def check(caller: Caller) -> None:
        if caller.kind != kind:
            raise forbidden(refusal)

    return check


async def _anyone(_caller: Caller) -> None:
    return None


async def _organisation_self(caller: Caller) -> None:
    if not caller.organisation or caller.params["org_number"] not in caller.principal.own_orgs():
        raise forbidden("an organisation may act only for itself")


async def _register_doctor(caller: Caller) -> None:
    if caller.kind not in ("organisation", "admin", "caseworker"):
        raise forbidden("doctors are registered by an organisation or the directorate")


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


def _not_confirmed(relation: Relation) -> ProblemError:
    if relation.employs:
        return forbidden(CLAIMED_WRITE)
    return forbidden(DISPUTED if relation.disputed else NO_SERVICE)


async def _new_or_current_employer(caller: Caller) -> None:
    relation = await caller.relation()
    if not caller.organisation:
        raise forbidden("requires an organisation's client token")
    if relation.disputed and not relation.employs:
        raise forbidden(DISPUTED)


async def _employer(caller: Caller) -> None:
    relation = await caller.relation()
    if not caller.organisation:
        raise forbidden("requires an organisation's client token (the employer)")
    if not relation.employs:
        raise forbidden(DISPUTED if relation.disputed else NO_SERVICE)


async def _confirmed_employer(caller: Caller) -> None:
    """An approval rests on the wider record (others' assessments, the doctor's path), which
    a claimed organisation may not read: it approves once confirmed."""
    relation = await caller.relation()
    if not caller.organisation:
        raise forbidden("requires an organisation's client token (the employer)")
    if not relation.confirmed:
        raise _not_confirmed(relation)


async def _employer_or_directorate(caller: Caller) -> None:
    relation = await caller.relation()
    if not (caller.directorate or caller.organisation):
        raise forbidden("requires the employer's client token or Helsedirektoratet")
    # Who may grant which exception is the domain's authority rule (RULES.md); an
    # organisation needs a relation that is not disputed.
    if not (caller.directorate or relation.employs):
        raise forbidden(DISPUTED if relation.disputed else NO_SERVICE)


async def _doctor_record(caller: Caller) -> None:
    # An organisation reads the wider record only once its relation is confirmed, by the
    # doctor or the directorate (RULES.md "Reach into a record").
    relation = await caller.relation()
    if caller.directorate or relation.is_self or (caller.organisation and relation.confirmed):
        return
    if caller.organisation and relation.employs:
        raise forbidden(CLAIMED)
    raise forbidden("not your record, nor a doctor you have or had in service")


async def _organisation_related(caller: Caller) -> None:
    relation = await caller.relation()
    if not (caller.organisation and (relation.employs or relation.disputed)):
        raise forbidden("requires an organisation that recorded facts for this doctor")


async def _directorate(caller: Caller) -> None:
    if "doctor_id" in caller.params:
        await caller.relation()  # 404 when unknown
    if not caller.directorate:
        raise forbidden("requires a Helsedirektoratet caseworker or admin token")


async def _doctor_self(caller: Caller) -> None:
    if not (await caller.relation()).is_self:
        raise forbidden("only the doctor may do this")


async def _doctor_self_or_directorate(caller: Caller) -> None:
    relation = await caller.relation()
    if not (caller.directorate or relation.is_self):
        raise forbidden("only the doctor and Helsedirektoratet may read this")


async def _doctor_self_or_employer(caller: Caller) -> None:
    relation = await caller.relation()
    if not (relation.is_self or (caller.organisation and relation.employs)):
        raise forbidden("only the doctor and organisations the doctor has served at may do this")


async def _application_read(caller: Caller) -> None:
    if caller.kind not in ("person", "caseworker", "admin"):
        raise forbidden("only the applicant and Helsedirektoratet may read applications")


# Each rule of :class:`Access`, as one small check (a rule missing here denies everyone).
RULES: dict[Access, Callable[[Caller], Awaitable[None]]] = {
    Access.AUTHENTICATED: _anyone,
    Access.ADMIN: _kind_is("admin", "requires a Helsedirektoratet admin token"),
    Access.CASEWORKER: _kind_is("caseworker", "requires a Helsedirektoratet caseworker token"),
    Access.ORGANISATION: _kind_is("organisation", "requires an organisation's client token"),
    Access.ORGANISATION_SELF: _organisation_self,
    Access.REGISTER_DOCTOR: _register_doctor,
    Access.NEW_OR_CURRENT_EMPLOYER: _new_or_current_employer,
    Access.EMPLOYER_OF_DOCTOR: _employer,
    Access.EMPLOYER_OR_DIRECTORATE: _employer_or_directorate,
    Access.DOCTOR_RECORD: _doctor_record,
    Access.DOCTOR_SELF: _doctor_self,
    Access.DOCTOR_SELF_OR_DIRECTORATE: _doctor_self_or_directorate,
    Access.DOCTOR_ME: _kind_is("person", "requires a person's token"),
    Access.APPLICATION_READ: _application_read,
    Access.DOCTOR_SELF_OR_EMPLOYER: _doctor_self_or_employer,
    Access.CONFIRMED_EMPLOYER: _confirmed_employer,
    Access.ORGANISATION_RELATED: _organisation_related,
    Access.DIRECTORATE: _directorate,
}


async def authorise(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The one guard: authenticate (unless public), then apply the route's rule."""
    rule = handler.opt.get("access")
    if rule is Access.PUBLIC or connection.scope["path"].startswith(OPENAPI_PATH + "/"):
        return
    principal = await principal_of(connection)
    queries = services_of(connection.app.state).queries
    await check_access(rule, principal, dict(connection.path_params), queries)


async def check_access(
    rule: object, principal: Principal, params: dict[str, Any], queries: Queries
) -> None:
    """The route's rule for this caller (a batch item passes the same check)."""
    for name, value in params.items():
        if not isinstance(value, str) or not SAFE_ID.fullmatch(value):
            raise not_found(f"{name}: no such {name.removesuffix('_id')}")
    check = RULES.get(rule) if isinstance(rule, Access) else None
    if check is None:
        raise forbidden("this operation is not open to any caller")
    await check(Caller(principal, params, queries))
