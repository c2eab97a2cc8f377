"""``POST /api/v1/batch``: many writes in one request, each with its own result.

Semantics: **independent items**. Each item runs as the same request on its own would —
same validation, authorisation, idempotency key, domain decision — and the answer lists one
result per item, in order. One item's refusal does not undo the others. Why: a hospital's
system sends unrelated facts about many doctors (a day's assessments, a month's absences);
holding 99 good facts hostage to one typo helps nobody, and each item's own
``idempotency_key`` makes retrying only the failed ones safe. Items that must stand or fall
together belong to one doctor and are ordered by ``If-Match``.

**A batch as a batch** (issue 14): the items about one doctor run in one transaction, each
in a savepoint of its own — a refused item rolls back to its savepoint and the others in
the group stand — and the group commits once: one commit (one WAL flush) per doctor, not
per item. Items of one doctor run in their order; items of different doctors do not depend
on each other. An item that is not about one doctor (an organisation's write) runs on its
own, after every group before it has committed, so order across such items holds. Each
item's access check reads inside its group's transaction, so it sees what the earlier
items wrote (a claimed relation), as a request after a committed one would. Each item's
access-log row is written with it in the group (a refused item's row, as an attempt, after
the batch).

Each item is routed to the same route handler a request on its own would reach, and that
handler is called directly with the item's body, path and envelope (its own idempotency key,
``If-Match`` and the group to run in): the same access rule, the same command handler, no
second trip through the ASGI app. The batch request is authenticated once.
"""

from __future__ import annotations

import functools
import re
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Litestar, Request, Response
from litestar.exceptions import HTTPException
from litestar.params import JSONBody

from services.api.access import Access, check_access
from services.api.access_log import log
from services.api.acting_party import acting_party
from services.api.authentication import too_many_requests
from services.api.dependencies import EnvelopeDep, PrincipalDep, ServicesDep, invalid_if_match
from services.api.problems import TYPE_BASE, Problem, ProblemError, problem_of
from services.api.ratelimit import Grant, RateLimiter
from services.api.route import post
from services.application.access_log import note_for, with_status
from services.application.messages import (
    AccessNote,
    Envelope,
    Group,
    IdempotentRequest,
    request_hash,
)
from services.bootstrap import Services
from services.identity.principal import Principal
from services.read_models.queries import Queries

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

    def idempotent(self) -> IdempotentRequest | None:
        key = self.item.idempotency_key
        if not key:
            return None
        fingerprint = request_hash(self.item.method, self.item.path, self.raw_body)
        return IdempotentRequest(acting_party(self.principal), key, fingerprint)

    def envelope(self, note: AccessNote | None, group: Group | None) -> Envelope:
        p, idempotent = self.principal, self.idempotent()
        version = None
        if self.item.if_match is not None:
            value = self.item.if_match.strip().strip('"')
            if not value.isdigit():
                raise invalid_if_match()
            version = int(value)
        return Envelope(p, self.request_id, idempotent, version, access=note, group=group)


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


@functools.cache
def _data_type(fn: Any) -> Any:
    """The body type a route function declares (resolved once: it costs a walk of the
    function's annotations)."""
    return typing.get_args(typing.get_type_hints(fn, include_extras=True)["data"])[0]


@dataclass(frozen=True)
class Routed:
    """An item and the route handler a request on its own would reach."""

    request: ItemRequest
    handler: Any
    params: dict[str, Any]
    note: AccessNote | None  # its access-log row, when it is about one doctor's record

    @property
    def index(self) -> int:
        return self.request.index

    @property
    def doctor_id(self) -> str | None:
        found = self.params.get("doctor_id")
        return None if found is None else str(found)


async def _call(
    routed: Routed, services: Services, queries: Queries, group: Group | None
) -> ItemResult:
    handler, params, request = routed.handler, routed.params, routed.request
    await check_access(handler.opt.get("access"), request.principal, params, queries)
    kwargs: dict[str, Any] = {}
    for name in handler.parsed_fn_signature.parameters:
        if name == "services":
            kwargs[name] = services
        elif name == "envelope":
            kwargs[name] = request.envelope(routed.note, group)
        elif name == "principal":
            kwargs[name] = request.principal
        elif name == "data":
            kwargs[name] = _body(_data_type(handler.fn), request.raw_body)
        else:
            kwargs[name] = params[name]
    answer = await handler.fn(**kwargs)
    if isinstance(answer, Response):
        return _result(request.index, answer.status_code or 200, answer.content)
    return _result(request.index, int(handler.status_code or 200), answer)


async def _answer(
    routed: Routed, services: Services, queries: Queries, group: Group | None
) -> ItemResult:
    try:
        return await _call(routed, services, queries, group)
    except Exception as err:
        mapped = problem_of(err)
        if mapped is None:
            raise
        return _problem(routed.index, mapped.problem, routed.request.item.path)


def route(app: Litestar, request: ItemRequest) -> Routed | ItemResult:
    """The item's route handler, or its result when there is none."""
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
    note = None
    if "doctor_id" in params:  # logged as the access-log middleware logs a request on its own
        who, doctor_id = request.principal, str(params["doctor_id"])
        note = note_for(who, doctor_id, item.method, template, request.request_id)
    return Routed(request, handler, params, note)


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


class BatchRun:
    """One batch: its items grouped per doctor, each group in one transaction."""

    def __init__(
        self, request: Request[Any, Any, Any], services: Services, size: int, grant: Grant
    ) -> None:
        self.request = request
        self.services = services
        self.grant = grant  # how many items the acting party's rate limit allows
        self.results: list[ItemResult | None] = [None] * size
        self.routed: list[Routed] = []

    async def run(self, items: list[Routed | ItemResult]) -> list[ItemResult]:
        pending: dict[str, list[Routed]] = {}  # per doctor, in the order of first mention
        for item in items:
            if isinstance(item, ItemResult):
                self.results[item.index] = item
                continue
            self.routed.append(item)
            doctor_id = item.doctor_id
            if doctor_id is not None:
                pending.setdefault(doctor_id, []).append(item)
                continue
            await self._groups(pending)  # what came before is committed before it runs
            pending = {}
            self._set(item, await self._item(item, self.services.queries, None))
        await self._groups(pending)
        return [r for r in self.results if r is not None]

    async def _groups(self, pending: dict[str, list[Routed]]) -> None:
        if not pending:
            return
        keys = [
            key
            for items in pending.values()
            for item in items
            if (key := item.request.idempotent()) is not None
        ]
        unused = await self.services.unused_keys(keys)  # one lookup, not one per item
        for items in pending.values():
            async with self.services.group(unused) as (group, queries):
                for item in items:
                    self._set(item, await self._item(item, queries, group))

    async def _item(self, item: Routed, queries: Queries, group: Group | None) -> ItemResult:
        return limited(self.grant, item.index) or await _answer(item, self.services, queries, group)

    def _set(self, item: Routed, result: ItemResult) -> None:
        self.results[item.index] = result

    async def log_attempts(self, *, failed: bool) -> None:
        """The access-log rows of items that reached no committed transaction of theirs
        (refused, answered from their idempotency key; a stored item's row is in its group),
        in one insert. When the batch failed, an item it did not refuse is logged as 500:
        its group was rolled back, or its outcome never reached the caller."""
        rows = []
        for item in self.routed:
            result = self.results[item.index]
            if item.note is None or item.note.written or result is None:
                continue
            status = 500 if failed and result.status < 400 else result.status
            rows.append(with_status(item.note.row, status))
        try:
            await self.services.access_log.write(rows)
        except Exception as err:  # never fail the answer for it, but say so loudly
            log.error("access_log.write_failed", rows=len(rows), error=repr(err))


class BatchController(Controller):
    path = "/api/v1/batch"
    tags = ["batch"]  # noqa: RUF012

    @post("/", Access.ORGANISATION, status_code=200)
    async def batch(
        self,
        request: Request[Any, Any, Any],
        services: ServicesDep,
        principal: PrincipalDep,
        envelope: EnvelopeDep,
        data: JSONBody[BatchIn],
    ) -> Response[BatchOut]:
        """Many writes, each with its own result (independent items)"""
        if envelope.idempotency is not None:
            raise ProblemError(
                400,
                "invalid-input",
                "Invalid input",
                "Idempotency-Key: give each item its own idempotency_key",
                field="Idempotency-Key",
            )
        requests = [
            ItemRequest(i, item, principal, envelope.request_id)
            for i, item in enumerate(data.items)
        ]
        grant = await items_allowed(request, len(requests))
        batch = BatchRun(request, services, len(requests), grant)
        failed = True
        try:
            results = await batch.run([route(request.app, r) for r in requests])
            failed = False
        finally:
            await batch.log_attempts(failed=failed)
        ok = sum(1 for r in results if r.status < 400)
        return Response(BatchOut(succeeded=ok, failed=len(results) - ok, results=results))
