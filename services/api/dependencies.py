"""What a route handler may ask for, typed, through Litestar's ``Provide``: the services
built by the one bootstrap, the caller's ``Principal``, the ``Envelope`` of a write
(who, request id, idempotency key, ``If-Match``) and the ``Paging`` of a paged list."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from services.api.acting_party import acting_party
from services.api.cursor import Paging, paging_of
from services.api.problems import ProblemError
from services.application.access_log import note_for
from services.application.messages import AccessNote, Envelope, IdempotentRequest, request_hash
from services.bootstrap import Services
from services.identity.principal import Principal

MAX_KEY_LENGTH = 200
AnyRequest = Request[Any, Any, Any]


def services_of(state: State) -> Services:
    services = state.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("the app was started without its services (see create_app)")
    return services


def principal_of_request(request: AnyRequest) -> Principal:
    """The principal the guard authenticated (every non-public route has one)."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):
        raise ProblemError(401, "unauthenticated", "Not authenticated", "no valid token")
    return principal


def expected_version(request: AnyRequest) -> int | None:
    """``If-Match: "<version>"`` (quotes optional, weak tags refused)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = value[1:-1]
    if not value.isdigit():
        raise invalid_if_match()
    return int(value)


def invalid_if_match() -> ProblemError:
    """The problem for an ``If-Match`` that is not a stream version (here and in a batch)."""
    return ProblemError(
        400,
        "invalid-if-match",
        "Invalid If-Match",
        'If-Match must be a stream version in quotes, e.g. "3"',
        field="If-Match",
    )


async def idempotency_of(request: AnyRequest, principal: Principal) -> IdempotentRequest | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise ProblemError(
            400,
            "invalid-idempotency-key",
            "Invalid Idempotency-Key",
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters",
            field="Idempotency-Key",
        )
    who = acting_party(principal)
    body = await request.body()
    return IdempotentRequest(who, key, request_hash(request.method, request.url.path, body))


async def my_doctor_id_of(
    services: NamedDependency[Services], principal: NamedDependency[Principal], request: AnyRequest
) -> str:
    """The doctor a person's token belongs to (the dependency ``my_doctor_id`` of a route
    under /me, or called by a route that checks its input first); also noted for the
    access log."""
    doctor_id = await services.queries.doctor_id_of(principal)
    if doctor_id is None:
        raise ProblemError(
            404,
            "not-found",
            "Not found",
            "no doctor is registered with your HPR or identity number",
        )
    request.scope["state"]["doctor_id"] = doctor_id
    return doctor_id


ACCESS_NOTE = "access_note"  # where the access-log middleware finds a write's note


def access_note_of(
    request: AnyRequest, principal: Principal, request_id: str | None
) -> AccessNote | None:
    """A write to a doctor's record in the path: its access-log row goes with the command
    (services/api/access_log.py)."""
    doctor_id = request.scope.get("path_params", {}).get("doctor_id")
    if doctor_id is None:
        return None
    template = str(request.scope.get("path_template") or request.scope.get("path", ""))
    note = note_for(principal, str(doctor_id), request.method, template, request_id)
    request.scope["state"][ACCESS_NOTE] = note
    return note


async def envelope_of(request: AnyRequest) -> Envelope:
    principal = principal_of_request(request)
    found = request.scope.get("state", {}).get("request_id")
    request_id = str(found) if found is not None else None
    return Envelope(
        principal=principal,
        request_id=request_id,
        idempotency=await idempotency_of(request, principal),
        expected_version=expected_version(request),
        access=access_note_of(request, principal, request_id),
    )


DEPENDENCIES = {
    "services": Provide(services_of, sync_to_thread=False),
    "principal": Provide(principal_of_request, sync_to_thread=False),
    "envelope": Provide(envelope_of),
    "my_doctor_id": Provide(my_doctor_id_of),
    "paging": Provide(paging_of, sync_to_thread=False),
}

# What a route handler declares to receive them (Litestar's explicit named dependencies).
ServicesDep = NamedDependency[Services]
PrincipalDep = NamedDependency[Principal]
EnvelopeDep = NamedDependency[Envelope]
MyDoctorIdDep = NamedDependency[str]  # the caller's own doctor id (a route under /me)
PagingDep = NamedDependency[Paging]  # ?cursor= and ?limit= of a paged list
