"""`GET /metrics` on a FastAPI app: for operators scraping each process directly."""

from __future__ import annotations

import hmac

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from weft_shared.metrics.http import HttpMetricsMiddleware
from weft_shared.metrics.process import ProcessMetrics

METRICS_PATH = "/metrics"


class _SelfNamingRoute(Route):
    """A plain route that names itself in the scope as FastAPI's API routes do, so its own
    requests are counted under its path (FastAPI sets `scope["route"]` only for API routes)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


def install_metrics(app: FastAPI, metrics: ProcessMetrics, *, token: str | None = None) -> None:
    """Count the app's requests and serve `/metrics`. A plain Starlette route: it stays out
    of the OpenAPI document and out of the app's dependencies (the web app's session and
    CSRF checks). Without `token` it is open, like /healthz, for the network inside the
    deployment; the gateway and the web app also face the outside on their port, so set
    `WEFT_METRICS_TOKEN` there and give Prometheus the same bearer token."""
    expected = f"Bearer {token}".encode() if token else None

    async def scrape(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        # 0.0.4: the text format every Prometheus version reads (our names need none of 1.0.0's escaping).
        return Response(await metrics.render(), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    app.router.routes.append(_SelfNamingRoute(METRICS_PATH, scrape, methods=["GET"], include_in_schema=False))
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics.http)
