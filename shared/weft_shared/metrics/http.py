"""HTTP request metrics by route template, never by raw path (paths carry ids and tokens)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_ROUTE = "(no route)"
# Anything else a client sends as a method is one label value, so it cannot grow the series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Web requests are mostly milliseconds; uploads and slow upstreams reach the gateway's timeouts.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

RouteOf = Callable[[Scope, str], str]  # (scope after the app ran, root_path before it)


def scope_route(scope: Scope, root_path: str = "") -> str:
    """The template of the route the router matched (`/v1/communities/{community_id}`).

    FastAPI (0.165) names only its own API routes in the scope (`scope["route"]`); a request
    a mounted app answered (static files) shows as the mount's prefix added to `root_path`,
    and is counted as `<prefix>/{path}`, never the path asked for."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    mounted: str = scope.get("root_path", "")
    if len(mounted) > len(root_path) and mounted.startswith(root_path):
        return mounted[len(root_path) :] + "/{path}"
    return NO_ROUTE


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.duration = Histogram(
            "weft_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status code",
            ["service", "method", "route", "status"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        # A plain count read at scrape time: requests run on one event loop, so it needs no lock.
        self.in_flight = 0
        Gauge(
            "weft_http_requests_in_flight",
            "HTTP requests being answered now",
            ["service"],
            registry=registry,
        ).labels(service).set_function(lambda: self.in_flight)
        # Each label set's histogram, found once: `labels()` takes a lock and builds a key every call.
        self._series: dict[tuple[str, str, int], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method if method in _METHODS else "other", route, status)  # bounded: never the raw method
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self.duration.labels(self.service, key[0], route, str(status or 0))
        series.observe(seconds)


class HttpMetricsMiddleware:
    """Counts every HTTP request once it is answered. `route_of` names its template after
    the app has run (the router writes the matched route into the scope); requests that
    matched no route count as "(no route)". Status 0: the client went before an answer."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics, route_of: RouteOf = scope_route) -> None:
        self.app = app
        self.metrics = metrics
        self.route_of = route_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_tracking_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        root_path = scope.get("root_path", "")
        began = time.perf_counter()
        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_tracking_status)
        except Exception:
            status = status or 500
            raise
        finally:
            self.metrics.in_flight -= 1
            self.metrics.observe(scope["method"], self.route_of(scope, root_path), status, time.perf_counter() - began)
