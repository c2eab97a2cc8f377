"""Every read and write of a doctor's record is logged, append-only: who (HPR number or
client), which organisation, what, when, through which endpoint, with what result.

Installed as middleware on the doctor routes, so no handler can forget it; the row is
written after the response is sent, in its own transaction (a failed write is logged too:
the attempt is part of who tried to reach the record).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.api.dependencies import services_of
from services.bootstrap import Services
from services.identity.principal import Principal

log = structlog.get_logger("access_log")


def action_of(method: str, template: str) -> str:
    verb = "read" if method in ("GET", "HEAD") else "write"
    resource = template.rstrip("/").split("/")[-1].split(":")[0].strip("{}")
    return f"{verb}:{resource}"


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
    principal = state.get("principal")
    doctor_id = (scope.get("path_params") or {}).get("doctor_id") or state.get("doctor_id")
    if not isinstance(principal, Principal) or doctor_id is None:
        return  # not authenticated: nothing of the record was reached
    method = str(scope.get("method", "GET"))
    template = str(scope.get("path_template") or scope.get("path", ""))
    services = services_of(scope["app"].state)
    await log_access(
        services, principal, doctor_id, method, template, status, state.get("request_id")
    )


async def log_access(
    services: Services,
    principal: Principal,
    doctor_id: str,
    method: str,
    template: str,
    status: int,
    request_id: str | None,
) -> None:
    entry: dict[str, object] = {
        "doctor_id": doctor_id,
        "kind": principal.kind,
        "hpr": principal.hpr_number,
        "client": principal.client_id,
        "org": principal.org_number,
        "action": action_of(method, template),
        "method": method,
        "endpoint": template,
        "status": status,
        "request_id": request_id,
    }
    try:
        await services.doctors.log_access(entry)
    except Exception as err:  # the response is sent; never fail it, but say so loudly
        log.error("access_log.write_failed", doctor_id=doctor_id, error=repr(err))
