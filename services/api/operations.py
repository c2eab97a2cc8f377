"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.api.access import Access, access
from services.api.problems import ProblemError


class OperationsController(Controller):
    path = ""
    opt = access(Access.PUBLIC)
    include_in_schema = True
    tags = ["operations"]  # noqa: RUF012 (Litestar reads it as a list)

    @get("/healthz", summary="Process alive")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", summary="Database and NATS reachable, projections caught up")
    async def readyz(self, state: State) -> Response[dict[str, Any]]:
        checks: dict[str, Any] = {}
        ready = True
        try:
            async with state.engine.connect() as conn:
                head = int(
                    await conn.scalar(text("SELECT coalesce(max(position), 0) FROM events")) or 0
                )
                relay = await conn.scalar(text("SELECT min(position) FROM relay_checkpoints"))
                rows = (
                    await conn.execute(
                        text("SELECT projection, position FROM projection_checkpoints")
                    )
                ).all()
            checks["database"] = "ok"
            lags = {"relay": head - int(relay or 0)}
            lags.update({name: head - int(position) for name, position in rows})
            checks["lag"] = lags
            bound = state.settings.readiness_max_lag_events
            if not rows:
                checks["projections"] = "none running yet"
                ready = False
            if any(lag > bound for lag in lags.values()):
                ready = False
        except Exception as err:
            checks["database"] = f"unreachable: {type(err).__name__}"
            ready = False
        nc = state.get("nats")
        nats_ok = nc is not None and nc.is_connected
        checks["nats"] = "ok" if nats_ok else "unreachable"
        ready = ready and nats_ok
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
        return generate_latest()
