"""What only the gateway knows: how its upstream services answer, and whom it rate-limits."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from weft_shared.metrics import ProcessMetrics
from weft_shared.metrics.http import DURATION_BUCKETS


class GatewayMetrics:
    def __init__(self, metrics: ProcessMetrics) -> None:
        service, registry = metrics.service, metrics.registry
        self._service = service
        self._upstream = Histogram(
            "weft_gateway_upstream_duration_seconds",
            "Time from sending a request to an upstream service until its answer's head arrived, "
            "by upstream and status code (or `timeout`, `unreachable`)",
            ["service", "upstream", "status"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self._limited = Counter(
            "weft_gateway_rate_limited_requests_total",
            "Requests refused with 429, by what the limit was keyed on: `sub` (a signed-in principal) or `ip`",
            ["service", "key"],
            registry=registry,
        )
        for key in ("sub", "ip"):
            self._limited.labels(service, key)  # exported as 0 until the first refusal

    def upstream_answered(self, upstream: str, status: str, seconds: float) -> None:
        self._upstream.labels(self._service, upstream, status).observe(seconds)

    def rate_limited(self, key: str) -> None:
        self._limited.labels(self._service, key.split(":", 1)[0]).inc()
