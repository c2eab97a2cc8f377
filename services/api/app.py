"""The app factory: wires settings, database, NATS and controllers into one Litestar app."""

from __future__ import annotations

import contextlib
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import ASGIApp, Receive, Scope, Send

from services import metrics
from services.api.access import OPENAPI_PATH, authorise
from services.api.authentication import acting_party_of
from services.api.dependencies import DEPENDENCIES, services_of
from services.api.input_limits import CheckedRequest
from services.api.operations import OperationsController
from services.api.problems import EXCEPTION_HANDLERS
from services.api.ratelimit import RateLimiter
from services.api.response_headers import response_headers_middleware
from services.api.routes import ROUTE_HANDLERS
from services.bootstrap import bootstrap
from services.config import Settings, load_settings
from services.feed_status import JetStreamProbe
from services.identity.authenticate import Authenticator
from services.lifetime import die_with_spawning_parent
from services.logging import configure_logging

log = structlog.get_logger("api")


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (or keep the caller's ``X-Request-Id``), bind it to the
    log context, echo it in the response, and count the request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else str(uuid.uuid4())
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                await _note_write(scope, message["status"])
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            route = scope.get("path_template") or "unmatched"
            elapsed = time.perf_counter() - started
            method = scope.get("method", "GET")
            metrics.HTTP_REQUESTS.labels(method, route, status_holder["status"]).inc()
            metrics.HTTP_LATENCY.labels(method, route).observe(elapsed)

    return middleware


def metrics_token(settings: Settings) -> str:
    """``/metrics`` is behind a bearer token: ``KOMPETANSE_METRICS_TOKEN``, or else one made
    once in the data directory (``<data_dir>/metrics-token``, mode 0600) and shared by every
    process using that directory."""
    if settings.metrics_token:
        return settings.metrics_token
    path = settings.data_path / "metrics-token"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


async def _note_write(scope: Scope, status: int) -> None:
    """Before a successful write's answer leaves, note it for the acting party, so that its
    next reads wait for a replica to have replayed it (read_models/routing.py)."""
    if scope.get("method") not in WRITE_METHODS or status >= 400:
        return
    principal = scope.get("state", {}).get("principal")
    if principal is not None:
        await services_of(scope["app"].state).reads.note_write(acting_party_of(principal))


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_worker_app() -> Litestar:
    """The app in one of several API worker processes (``kompetanse api`` with
    ``KOMPETANSE_API_WORKERS`` > 1): the server's master starts each worker afresh, which
    builds its app from the environment, and ends with the master (services/lifetime.py)."""
    die_with_spawning_parent()
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)


def create_app(settings: Settings) -> Litestar:
    if settings.database_url is None:
        raise ValueError("DATABASE_URL must be set")

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services = bootstrap(settings)
        app.state.services = services
        app.state.authenticator = Authenticator.from_settings(settings)
        app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, services.rate_buckets)
        app.state.metrics_token = metrics_token(settings)
        # Connected on first use and again after any loss: NATS may start after the API.
        probe = None
        if settings.nats_url:
            probe = JetStreamProbe(settings.nats_url, settings.stream_name)
        app.state.jetstream_probe = probe
        try:
            yield
        finally:
            if probe is not None:
                await probe.close()
            await services.close()

    route_handlers: list[Any] = [OperationsController, *ROUTE_HANDLERS]

    return Litestar(
        route_handlers=route_handlers,
        lifespan=[lifespan],
        state=State({"settings": settings}),
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        guards=[authorise],
        dependencies=DEPENDENCIES,
        middleware=[request_context_middleware, response_headers_middleware],
        request_max_body_size=settings.max_body_bytes,
        request_class=CheckedRequest,
        openapi_config=OpenAPIConfig(
            title="kompetanse",
            version="1.0.0",
            description="Registry of Norwegian doctors' specialist training (API v1).",
            path=OPENAPI_PATH,
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
