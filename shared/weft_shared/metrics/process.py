"""One process's metrics registry, and the refreshers that run on each scrape."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics, generate_latest

from weft_shared.metrics.http import HttpMetrics

log = logging.getLogger("weft.metrics")

Refresh = Callable[[], Awaitable[None]]

# Library-wide, on purpose: in the text format every counter and histogram would also export a
# `_created` gauge per label set, doubling the series, and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]


class ProcessMetrics:
    """Every metric a process exports lives in its own registry (not the library's global
    one): tests run several apps in one interpreter, and each must count only its own.

    Every metric carries a `service` label naming the process type, so one dashboard
    query covers all processes without relying on scrape-job names."""

    def __init__(self, service: str, *, refresh_timeout_seconds: float = 2.0) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.http = HttpMetrics(self.registry, service)
        self._refreshers: list[tuple[str, Refresh]] = []
        self._refresh_timeout = refresh_timeout_seconds
        # One refresh at a time: concurrent scrapes wait for it instead of doubling the reads.
        self._refreshing = asyncio.Lock()
        self._refresh_failures = Counter(
            "weft_metrics_refresh_failures_total",
            "Scrape-time reads (JetStream, database) that failed or timed out; their gauges keep the last value",
            ["service", "source"],
            registry=self.registry,
        )

    def on_scrape(self, source: str, refresh: Refresh) -> None:
        """Run `refresh` (update gauges from JetStream or the database) before each scrape is rendered."""
        self._refreshers.append((source, refresh))
        self._refresh_failures.labels(self.service, source)  # exported as 0 from the start

    async def render(self) -> bytes:
        """The Prometheus text exposition. A refresher that fails or hangs is logged and
        skipped: a scrape never fails because NATS or the database is away."""
        async with self._refreshing:
            for source, refresh in self._refreshers:
                try:
                    await asyncio.wait_for(refresh(), self._refresh_timeout)
                except Exception as exc:
                    self._refresh_failures.labels(self.service, source).inc()
                    log.warning("metrics refresh %s failed: %r", source, exc)
            # In a thread: rendering hundreds of histogram series takes milliseconds, which the
            # event loop should spend answering requests (the library's metrics are thread-safe).
            return await asyncio.to_thread(generate_latest, self.registry)
