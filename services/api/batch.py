"""``POST /api/v1/batch``: many writes in one request, each with its own result.

Semantics: **independent items**. Each item runs exactly as the same request on its own
would — same validation, authorisation, idempotency key, domain decision and transaction —
and the answer lists one result per item, in order. One item's refusal does not undo the
others. Why: a hospital's system sends unrelated facts about many doctors (a day's
assessments, a month's absences); holding 99 good facts hostage to one typo helps nobody,
and each item's own ``Idempotency-Key`` makes retrying only the failed ones safe. Items that
must stand or fall together belong to one doctor and are ordered by ``If-Match``.

Each item is routed to the same route handler a request on its own would reach, and that
handler is called directly with the item's body, path and envelope (its own idempotency key
and ``If-Match``): the same access rule, the same command handler, no second trip through
the ASGI app. The batch request is authenticated once.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Litestar, Request, Response, post
from litestar.exceptions import HTTPException
from litestar.params import JSONBody

from services.api.access import Access, access, check_access
from services.api.access_log import log_access
from services.api.acting_party import acting_party
from services.api.authentication import too_many_requests
from services.api.dependencies import EnvelopeDep, PrincipalDep, ServicesDep
from services.api.problems import TYPE_BASE, Problem, ProblemError, problem_of
from services.api.ratelimit import Grant, RateLimiter
from services.application.messages import Envelope, IdempotentRequest, request_hash
from services.bootstrap import Services
from services.identity.principal import Principal

MAX_ITEMS = 500
ALLOWED_PREFIXES = ("/api/v1/doctors", "/api/v1/organisations/")


class BatchItem(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    method: Literal["POST", "DELETE"] = "POST"
    path: Annotated[str, msgspec.Meta(max_length=300, pattern=r"^/api/v1/[A-Za-z0-9/_.-]+$")]
    body: dict[str, Any] | None = None
    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    if_match: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class BatchIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    items: Annotated[list[BatchItem], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]


class ItemResult(msgspec.Struct, kw_only=True):
    index: int
    status: int
    body: msgspec.Raw | None = None


class BatchOut(msgspec.Struct, kw_only=True):
    succeeded: int
    failed: int
    results: list[ItemResult]


_AT = re.compile(r"`\$\.(.+)`$")
_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): ")


class ItemRequest(msgspec.Struct, frozen=True):
    """One item as the route handler sees it."""

    index: int
    item: BatchItem
    principal: Principal
    request_id: str | None

    @property
    def raw_body(self) -> bytes:
        return msgspec.json.encode(self.item.body) if self.item.body is not None else b""

    def envelope(self) -> Envelope:
        key = self.item.idempotency_key
        p = self.principal
        idempotent = (
            IdempotentRequest(
                acting_party(p),
                key,
                request_hash(self.item.method, self.item.path, self.raw_body),
            )
            if key
            else None
        )
        version = None
        if self.item.if_match is not None:
            value = self.item.if_match.strip().strip('"')
            if not value.isdigit():
                raise ProblemError(
                    400,
                    "invalid-if-match",
                    "Invalid If-Match",
                    'If-Match must be a stream version in quotes, e.g. "3"',
                    field="If-Match",
                )
            version = int(value)
        return Envelope(p, self.request_id, idempotent, version)


def _result(index: int, status: int, body: Any) -> ItemResult:
    payload = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return ItemResult(index=index, status=status, body=msgspec.Raw(payload) if payload else None)


def _problem(index: int, problem: Problem, path: str) -> ItemResult:
    return _result(index, problem.status, msgspec.structs.replace(problem, instance=path))


def _body(data_type: Any, raw: bytes) -> Any:
    """The body decoded exactly as the route would (unknown fields refused)."""
    try:
        return msgspec.json.decode(raw or b"null", type=data_type)
    except msgspec.ValidationError as err:
        found = _AT.search(str(err))
        key = found.group(1) if found else "body"
        message = str(err).split(" - ", maxsplit=1)[0]
        named = _NAMED.match(message)  # a __post_init__ check names its field first
        if found is None and named is not None:
            key, message = named.group(1), message[named.end() :]
        raise ProblemError(
            400, "invalid-input", "Invalid input", f"{key}: {message}", field=key
        ) from err


async def _call(
    handler: Any, params: dict[str, Any], services: Services, request: ItemRequest
) -> ItemResult:
    await check_access(handler.opt.get("access"), request.principal, params, services.queries)
    hints = typing.get_type_hints(handler.fn, include_extras=True)
    kwargs: dict[str, Any] = {}
    for name in handler.parsed_fn_signature.parameters:
        if name == "services":
            kwargs[name] = services
        elif name == "envelope":
            kwargs[name] = request.envelope()
        elif name == "principal":
            kwargs[name] = request.principal
        elif name == "data":
            kwargs[name] = _body(typing.get_args(hints["data"])[0], request.raw_body)
        else:
            kwargs[name] = params[name]
    answer = await handler.fn(**kwargs)
    if isinstance(answer, Response):
        return _result(request.index, answer.status_code or 200, answer.content)
    return _result(request.index, int(handler.status_code or 200), answer)


async def _answer(
    handler: Any, params: dict[str, Any], services: Services, request: ItemRequest
) -> ItemResult:
    try:
        return await _call(handler, params, services, request)
    except Exception as err:
        mapped = problem_of(err)
        if mapped is None:
            raise
        return _problem(request.index, mapped.problem, request.item.path)


async def dispatch(app: Litestar, services: Services, request: ItemRequest) -> ItemResult:
    index, item = request.index, request.item
    if not item.path.startswith(ALLOWED_PREFIXES):
        problem = Problem(
            type=TYPE_BASE + "invalid-input",
            status=400,
            title="Invalid input",
            field=f"items[{index}].path",
            detail=f"items[{index}].path: only doctor and organisation writes",
        )
        return _result(index, 400, problem)
    try:
        _, handler, _, params, template = app.asgi_router.handle_routing(item.path, item.method)
    except HTTPException as err:  # no such route or method
        missing = err.status_code == 404
        problem = Problem(
            type=TYPE_BASE + ("not-found" if missing else "method-not-allowed"),
            title="Not found" if missing else "Method not allowed",
            status=err.status_code,
            detail=str(err.detail),
        )
        return _problem(index, problem, item.path)
    result = await _answer(handler, params, services, request)
    if "doctor_id" in params:  # as the access-log middleware does for a request on its own
        await log_access(
            services,
            request.principal,
            str(params["doctor_id"]),
            item.method,
            template,
            result.status,
            request.request_id,
        )
    return result


async def items_allowed(request: Request[Any, Any, Any], count: int) -> Grant:
    """Each item counts against the acting party's rate limit, like the request it stands
    for: the first items take what the bucket holds (one statement for all of them)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return await limiter.take(acting_party(request.scope["state"]["principal"]), count)


def limited(grant: Grant, index: int) -> ItemResult | None:
    """An item beyond what the bucket held gets its own 429."""
    if index < grant.granted:
        return None
    over = too_many_requests(grant.retry_after or 1, "item")
    return _result(index, 429, msgspec.structs.replace(over.problem, field=f"items[{index}]"))


class BatchController(Controller):
    path = "/api/v1/batch"
    tags = ["batch"]  # noqa: RUF012

    @post(
        "/",
        opt=access(Access.ORGANISATION),
        status_code=200,
        summary="Many writes, each with its own result (independent items)",
    )
    async def batch(
        self,
        request: Request[Any, Any, Any],
        services: ServicesDep,
        principal: PrincipalDep,
        envelope: EnvelopeDep,
        data: JSONBody[BatchIn],
    ) -> Response[BatchOut]:
        if envelope.idempotency is not None:
            raise ProblemError(
                400,
                "invalid-input",
                "Invalid input",
                "Idempotency-Key: give each item its own idempotency_key",
                field="Idempotency-Key",
            )
        grant = await items_allowed(request, len(data.items))
        results = [
            limited(grant, i)
            or await dispatch(
                request.app, services, ItemRequest(i, item, principal, envelope.request_id)
            )
            for i, item in enumerate(data.items)
        ]
        ok = sum(1 for r in results if r.status < 400)
        return Response(BatchOut(succeeded=ok, failed=len(results) - ok, results=results))
