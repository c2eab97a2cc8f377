"""Every read and write of a doctor's record is logged, append-only: who (HPR number or
client), which organisation, what, when, through which endpoint, with what result.

Installed as middleware on the doctor routes, so no handler can forget it. After the
response:
- a write whose row went into its command's transaction (the envelope's note, marked
  written on commit) needs nothing more: it is logged exactly once, atomically with it;
- any other write — refused before or during the command, answered from its idempotency
  key, or failed — is logged as an attempt, in its own transaction, at once;
- a read is buffered and written within a second in a multi-row insert
  (services/application/access_log.py says what a crash can lose).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.api.dependencies import ACCESS_NOTE, services_of
from services.application.access_log import access_row, with_status
from services.application.messages import AccessNote
from services.identity.principal import Principal

log = structlog.get_logger("access_log")

READS = ("GET", "HEAD")


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        status = {"code": 500}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            await record(scope, status["code"])

    return middleware


async def record(scope: Scope, status: int) -> None:
    state: dict[str, Any] = scope.get("state", {})
    note = state.get(ACCESS_NOTE)
    if isinstance(note, AccessNote) and note.written:
        return  # committed with the command
    principal = state.get("principal")
    doctor_id = (scope.get("path_params") or {}).get("doctor_id") or state.get("doctor_id")
    if not isinstance(principal, Principal) or doctor_id is None:
        return  # not authenticated: nothing of the record was reached
    method = str(scope.get("method", "GET"))
    template = str(scope.get("path_template") or scope.get("path", ""))
    row = with_status(
        access_row(principal, str(doctor_id), method, template, state.get("request_id")), status
    )
    access_log = services_of(scope["app"].state).access_log
    if method in READS:
        access_log.buffer(row)
        return
    try:
        await access_log.write([row])
    except Exception as err:  # the response is sent; never fail it, but say so loudly
        log.error("access_log.write_failed", doctor_id=doctor_id, error=repr(err))
