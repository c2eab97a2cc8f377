"""``POST /api/v1/batch``: many writes in one request, each with its own result.

Semantics: **independent items**. Each item runs exactly as the same request on its own
would — same validation, authorisation, idempotency key, domain decision and transaction —
and the answer lists one result per item, in order. One item's refusal does not undo the
others. Why: a hospital's system sends unrelated facts about many doctors (a day's
assessments, a month's absences); holding 99 good facts hostage to one typo helps nobody,
and each item's own ``Idempotency-Key`` makes retrying only the failed ones safe. Items that
must stand or fall together belong to one doctor and are ordered by ``If-Match``.

Items are dispatched in-process through the same application (no network hop), as the
caller already authenticated; the batch request is authenticated once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import JSONBody

from services.api.access import Access, access
from services.api.authentication import rate_limited
from services.api.problems import ProblemError

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


async def dispatch(request: Request[Any, Any, Any], index: int, item: BatchItem) -> ItemResult:
    if not item.path.startswith(ALLOWED_PREFIXES):
        problem = {
            "type": "https://kompetanse.no/problems/invalid-input",
            "status": 400,
            "title": "Invalid input",
            "field": f"items[{index}].path",
            "detail": f"items[{index}].path: only doctor and organisation writes",
        }
        return ItemResult(index=index, status=400, body=msgspec.Raw(msgspec.json.encode(problem)))
    body = msgspec.json.encode(item.body) if item.body is not None else b""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if item.idempotency_key:
        headers.append((b"idempotency-key", item.idempotency_key.encode()))
    if item.if_match:
        headers.append((b"if-match", item.if_match.encode()))
    parent = request.scope
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": item.method,
        "scheme": parent.get("scheme", "http"),
        "path": item.path,
        "raw_path": item.path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": parent.get("client"),
        "server": parent.get("server"),
        # Authenticated once, for the whole batch.
        "state": {"principal": parent["state"]["principal"]},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)  # type: ignore[arg-type]
    payload = b"".join(chunks)
    return ItemResult(index=index, status=status, body=msgspec.Raw(payload) if payload else None)


async def counted(request: Request[Any, Any, Any], index: int, item: BatchItem) -> ItemResult:
    """Each item counts against the acting party's rate limit, like the request it stands
    for; an item over the limit gets its own 429."""
    try:
        rate_limited(request.app.state.rate_limiter, request.scope["state"]["principal"], "item")
    except ProblemError as limited:
        problem = msgspec.structs.replace(limited.problem, field=f"items[{index}]")
        return ItemResult(index=index, status=429, body=msgspec.Raw(msgspec.json.encode(problem)))
    return await dispatch(request, index, item)


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
        self, request: Request[Any, Any, Any], data: JSONBody[BatchIn]
    ) -> Response[BatchOut]:
        if request.headers.get("idempotency-key"):
            raise ProblemError(
                400,
                "invalid-input",
                "Invalid input",
                "Idempotency-Key: give each item its own idempotency_key",
                field="Idempotency-Key",
            )
        results = [await counted(request, i, item) for i, item in enumerate(data.items)]
        ok = sum(1 for r in results if r.status < 400)
        return Response(BatchOut(succeeded=ok, failed=len(results) - ok, results=results))
