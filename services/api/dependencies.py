"""What a route handler may ask for, typed, through Litestar's ``Provide``: the services
built by the one bootstrap, the caller's ``Principal`` and the ``Envelope`` of a write
(who, request id, idempotency key, ``If-Match``)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from services.api.acting_party import acting_party
from services.api.problems import ProblemError
from services.application.messages import Envelope, IdempotentRequest, request_hash
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
        raise ProblemError(
            400,
            "invalid-if-match",
            "Invalid If-Match",
            'If-Match must be a stream version in quotes, e.g. "3"',
            field="If-Match",
        )
    return int(value)


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


async def envelope_of(request: AnyRequest) -> Envelope:
    principal = principal_of_request(request)
    request_id = request.scope.get("state", {}).get("request_id")
    return Envelope(
        principal=principal,
        request_id=str(request_id) if request_id is not None else None,
        idempotency=await idempotency_of(request, principal),
        expected_version=expected_version(request),
    )


DEPENDENCIES = {
    "services": Provide(services_of, sync_to_thread=False),
    "principal": Provide(principal_of_request, sync_to_thread=False),
    "envelope": Provide(envelope_of),
}

# What a route handler declares to receive them (Litestar's explicit named dependencies).
ServicesDep = NamedDependency[Services]
PrincipalDep = NamedDependency[Principal]
EnvelopeDep = NamedDependency[Envelope]
