"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST

from services import feed_status
from services.api.access import Access, access
from services.api.dependencies import services_of
from services.api.problems import ProblemError
from services.metrics import exposition


class OperationsController(Controller):
    path = ""
    opt = access(Access.PUBLIC)
    include_in_schema = True
    tags = ["operations"]  # noqa: RUF012 (Litestar reads it as a list)

    @get("/healthz", summary="Process alive")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", summary="Database and JetStream answer, relay and projections caught up")
    async def readyz(self, state: State) -> Response[dict[str, Any]]:
        """Ready = the database answers, JetStream answers a real request within a second,
        and neither the relay nor any projection is more than the configured number of
        events behind. Open dead letters are reported, not a reason to take the instance
        out of service: the feed goes on past them (see ``kompetanse dead-letters``)."""
        services = services_of(state)
        checks: dict[str, Any] = {}
        ready = True
        try:
            lags = await asyncio.wait_for(feed_status.lags(services.engine), 2.0)
        except Exception as err:
            checks["database"] = f"unreachable: {type(err).__name__}"
            ready = False
        else:
            checks["database"] = "ok"
            checks["lag"] = {"relay": lags.relay, **lags.projections}
            checks["dead_letters"] = lags.open_dead_letters
            if not lags.projections:
                checks["projections"] = "none running yet"
                ready = False
            elif lags.worst() > services.settings.readiness_max_lag_events:
                ready = False
        probe = state.get("jetstream_probe")
        problem = "not configured" if probe is None else await probe.round_trip()
        checks["nats"] = "ok" if problem is None else f"unreachable: {problem}"
        ready = ready and problem is None
        return Response(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @get(
        "/metrics",
        summary="Prometheus metrics (Authorization: Bearer <the metrics token>)",
        media_type=CONTENT_TYPE_LATEST,
    )
    async def metrics(self, request: Request[Any, Any, Any], state: State) -> bytes:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {state.metrics_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ProblemError(
                401,
                "unauthenticated",
                "Not authenticated",
                "Authorization: /metrics needs the operator's metrics token "
                "(KOMPETANSE_METRICS_TOKEN, else <data_dir>/metrics-token)",
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return exposition(services_of(state).settings.metrics_dir)
