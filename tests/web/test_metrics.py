"""The web app's `/metrics`: answered without a session (its session and CSRF checks are for
pages), counted by route template, and parsed with prometheus_client's own parser."""

from __future__ import annotations

import httpx

from tests.support.scrape import scrape
from weft_cli.testing import ServiceProcess


async def test_the_web_app_answers_metrics_and_counts_its_pages_by_route(
    web_service: ServiceProcess, web_http: httpx.AsyncClient
) -> None:
    count = "weft_http_request_duration_seconds_count"
    before = await scrape(web_service.url)

    page = await web_http.get("/sign-in")
    assert page.status_code == 200, page.text
    asset = await web_http.get("/static/no-such-asset.css")
    assert asset.status_code == 404

    after = await scrape(web_service.url)
    key = {"service": "web", "method": "GET", "route": "/sign-in", "status": "200"}
    assert after.value(count, **key) == before.value(count, **key) + 1
    # A mounted app (the static files) counts under its mount, never the file asked for.
    static = {"service": "web", "method": "GET", "route": "/static/{path}", "status": "404"}
    assert after.value(count, **static) == before.value(count, **static) + 1
    assert not [s for s in after.samples if "no-such-asset" in s.labels.get("route", "")]
    # The scrape before this one was counted too, under its own route.
    assert after.value(count, service="web", route="/metrics", status="200") >= 1
