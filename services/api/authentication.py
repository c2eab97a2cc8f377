"""From the request's headers to a ``Principal``: token (and DPoP proof) validation by the
identity layer, a per-client rate limit, and the caller bound into the log context (never
the national identity number)."""

from __future__ import annotations

import time
from typing import Any

import structlog
from litestar.connection import ASGIConnection

from services.api.acting_party import acting_party
from services.api.dependencies import services_of
from services.api.problems import ProblemError
from services.api.ratelimit import RateLimiter
from services.identity.authenticate import Authenticator, Unauthenticated
from services.identity.principal import Principal
from services.read_models import routing

COOKIE = "kompetanse_dev_token"  # the development login's cookie (services.api.dev_login)
CHALLENGE = 'Bearer realm="kompetanse", DPoP realm="kompetanse" algs="ES256 PS256 RS256"'


def request_url(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The URL a DPoP proof's ``htu`` must name: the configured public URL (by default the
    address the service is started on) and the request's path, no query. Never the
    client-supplied ``Host`` header."""
    settings = connection.app.state.settings
    return str(settings.base_url()).rstrip("/") + connection.url.path


def dpop_header(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The one ``DPoP`` header: RFC 9449 section 4.3 refuses a request with more than one."""
    proofs = connection.headers.getall("dpop", [])
    if len(proofs) > 1 or any("," in proof for proof in proofs):
        raise Unauthenticated("DPoP: exactly one proof header is allowed")
    return proofs[0] if proofs else None


def dev_cookie_authorization(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The development login's cookie, only while the development issuer is in use."""
    if services_of(connection.app.state).settings.token_issuer is not None:
        return None
    token = connection.cookies.get(COOKIE)
    return f"Bearer {token}" if token else None


async def rate_limited(limiter: RateLimiter, principal: Principal) -> None:
    """Spend one token of the acting party's bucket (client and organisation, or person);
    429 when it is empty."""
    grant = await limiter.take(acting_party(principal))
    if grant.retry_after is not None:
        raise too_many_requests(grant.retry_after)


def too_many_requests(retry_after: int, what: str = "request") -> ProblemError:
    return ProblemError(
        429,
        "too-many-requests",
        "Too many requests",
        f"rate limit of the acting party exceeded at this {what}; retry in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def acting_party_of(principal: Principal) -> str:
    """Whose reads must see whose writes: the client and the organisation it acts for, or
    the person."""
    return routing.party_of(
        principal.kind,
        principal.client_id,
        principal.org_number,
        principal.hpr_number,
        principal.subject,
    )


async def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    state = connection.scope.setdefault("state", {})
    cached: Principal | None = state.get("principal")
    if cached is not None:
        return cached
    authenticator = connection.app.state.get("authenticator")
    if not isinstance(authenticator, Authenticator):
        raise RuntimeError("the app was started without its authenticator")
    authorization = connection.headers.get("authorization")
    if authorization is None and connection.scope.get("method") == "GET":
        authorization = dev_cookie_authorization(connection)
    try:
        principal, seen = authenticator.authenticate_with_proof(
            authorization=authorization,
            dpop=dpop_header(connection),
            method=str(connection.scope.get("method", "GET")),
            url=request_url(connection),
            now=time.time(),
        )
        # The process's own cache caught replays to this instance; this catches a proof
        # replayed to another instance of the API.
        proofs = services_of(connection.app.state).proofs
        if seen is not None and not await proofs.first_use(seen.key, seen.expires_at):
            raise Unauthenticated("DPoP proof replayed")
    except Unauthenticated as err:
        raise ProblemError(
            401,
            "unauthenticated",
            "Not authenticated",
            str(err.reason),
            headers={"WWW-Authenticate": CHALLENGE},
        ) from err
    limiter = connection.app.state.get("rate_limiter")
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError("the app was started without its rate limiter")
    await rate_limited(limiter, principal)
    state["principal"] = principal
    routing.acting_party.set(acting_party_of(principal))
    structlog.contextvars.bind_contextvars(
        actor_kind=principal.kind,
        client_id=principal.client_id,
        org_number=principal.org_number,
        actor_hpr=principal.hpr_number,
    )
    return principal
