"""What the metrics cost: the HTTP middleware per request, and rendering a scrape.

In-process, no servers: a minimal ASGI app is called directly with and without
`HttpMetricsMiddleware` (so the figure is the middleware alone, not the network),
and a registry with `--routes` route templates x 4 statuses x 2 methods of
histogram series is rendered as a scrape would render it. Prints calls/s, the
added microseconds per request, and milliseconds and bytes per scrape.

    .venv/bin/python bench/metrics_cost.py [--requests 50000] [--routes 60] [--scrapes 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from starlette.types import Receive, Scope, Send

from weft_shared.metrics import HttpMetricsMiddleware, ProcessMetrics


class _Route:
    path = "/v1/communities/{community_id}"


async def answer(scope: Scope, receive: Receive, send: Send) -> None:
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def calls_per_second(app: Any, requests: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(requests):
        scope = {"type": "http", "method": "GET", "path": "/v1/communities/abc", "root_path": ""}
        await app(scope, receive, send)
    return requests / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--routes", type=int, default=60)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()

    metrics = ProcessMetrics("bench")
    bare = await calls_per_second(answer, args.requests)
    counted = await calls_per_second(HttpMetricsMiddleware(answer, metrics.http), args.requests)
    added_us = (1 / counted - 1 / bare) * 1e6
    print(f"HTTP middleware: {bare:,.0f} calls/s bare, {counted:,.0f} counted: +{added_us:.1f} µs per request")

    for route in range(args.routes):
        for method in ("GET", "POST"):
            for status in (200, 201, 404, 500):
                metrics.http.observe(method, f"/v1/things{route}/{{id}}", status, 0.01)
    series = args.routes * 2 * 4
    started = time.perf_counter()
    size = 0
    for _ in range(args.scrapes):
        size = len(await metrics.render())
    per_scrape = (time.perf_counter() - started) / args.scrapes * 1000
    print(f"scrape: {series} histogram series ({args.routes} routes) render in {per_scrape:.2f} ms, {size:,} bytes")


if __name__ == "__main__":
    asyncio.run(main())
