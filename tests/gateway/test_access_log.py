"""One access-log line per proxied request, without secrets from the path."""

from __future__ import annotations

import logging

import httpx
import pytest


async def test_access_log_names_the_route_not_the_path(
    gateway: httpx.AsyncClient, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="weft.gateway.access"):
        await gateway.get("/v1/calendar/secret-feed-token.ics", headers={"X-Request-ID": "log-me-1"})
        await gateway.get("/v1/communities/c1", headers=alice)
        await gateway.get("/v1/communities")  # no token: 401, still logged
    lines = [r for r in caplog.records if r.name == "weft.gateway.access"]
    assert len(lines) == 3
    fields = [r.fields for r in lines]  # type: ignore[attr-defined]
    assert [f["status"] for f in fields] == [200, 200, 401]
    assert fields[0]["route"] == "/v1/calendar/{token}.ics" and fields[0]["service"] == "events"
    assert fields[1]["route"].startswith("/v1/communities") and fields[1]["service"] == "membership"
    assert all(f["duration_ms"] >= 0 for f in fields)
    assert not any("secret-feed-token" in r.getMessage() or "secret-feed-token" in str(r.fields) for r in lines)  # type: ignore[attr-defined]
