"""The common path of every write: idempotency key, If-Match, one transaction, ETag,
problem mapping, the access log. Controllers stay thin: they build a decision and call
:func:`perform`."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from services.api.acting_party import acting_party
from services.api.problems import ProblemError
from services.application.streams import CommandRejected, IdempotentRequest, once
from services.store.eventstore import ConcurrencyConflict, DuplicateEventId
from services.store.idempotency import IdempotencyKeyReused, StoredResponse, request_hash

MAX_KEY_LENGTH = 200
# Without If-Match the server retries its own version conflicts (API.md conventions): the
# work reloads and re-decides each time. Bounded, with jittered backoff.
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = 0.01


def expected_version(request: Request[Any, Any, Any]) -> int | None:
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


async def idempotency_of(request: Request[Any, Any, Any]) -> IdempotentRequest | None:
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
    who = acting_party(request.scope["state"]["principal"])
    body = await request.body()
    return IdempotentRequest(who, key, request_hash(request.method, request.url.path, body))


def rejection_problem(rejection: Any) -> ProblemError:
    """A domain rejection as problem+json naming its field or rule."""
    code = str(getattr(rejection, "code", "rejected"))
    field = getattr(rejection, "field", None)
    rule = getattr(rejection, "rule", None)
    detail = str(getattr(rejection, "detail", rejection))
    status = 404 if code.startswith("unknown_") and field is None else 422
    if code in ("already_exists", "duplicate"):
        status = 409
    if rule:  # name the rule once, in front
        detail = detail.replace(f" ({rule})", "").replace(f"({rule})", "").strip()
    prefix = f"{rule}: " if rule and not detail.startswith(str(rule)) else ""
    return ProblemError(
        status, code.replace("_", "-"), "Command rejected", prefix + detail, field=field, rule=rule
    )


def json_response(response: StoredResponse) -> Response[Any]:
    return Response(
        content=response.body,
        status_code=response.status_code,
        media_type="application/json",
        headers=response.headers,
    )


async def perform(
    request: Request[Any, Any, Any],
    work: Callable[[AsyncConnection], Awaitable[StoredResponse]],
) -> Response[Any]:
    """Run one write at most once per idempotency key and map failures to problems."""
    engine = request.app.state.engine
    idempotent = await idempotency_of(request)
    retry_conflicts = request.headers.get("if-match") is None
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                stored = await once(engine, idempotent, work)
                break
            except ConcurrencyConflict:
                if not retry_conflicts or attempt == MAX_ATTEMPTS:
                    raise
                await asyncio.sleep(random.uniform(0, BACKOFF_SECONDS * 2**attempt))
    except CommandRejected as rejected:
        raise rejection_problem(rejected.rejection) from rejected
    except ConcurrencyConflict as conflict:
        if retry_conflicts:  # retried and still losing: say so, without naming a header
            raise ProblemError(
                409,
                "write-contention",
                "Conflict",
                "the record changed under this write too often; retry it",
            ) from conflict
        raise ProblemError(
            409,
            "stale-version",
            "Conflict",
            f"{conflict}: read the record again and retry with its current ETag",
            field="If-Match",
        ) from conflict
    except IdempotencyKeyReused as reused:
        raise ProblemError(
            409,
            "idempotency-key-reused",
            "Conflict",
            "this Idempotency-Key was used with a different request body",
            field="Idempotency-Key",
        ) from reused
    except DuplicateEventId as duplicate:
        raise ProblemError(
            409, "duplicate", "Conflict", "this event was stored already"
        ) from duplicate
    return json_response(stored)


def created(
    body: Any, *, version: int | None = None, status: int = 201, location: str | None = None
) -> StoredResponse:
    headers: dict[str, str] = {}
    if version is not None:
        headers["etag"] = f'"{version}"'
    if location is not None:
        headers["location"] = location
    return StoredResponse(status, msgspec.json.encode(body), headers)
