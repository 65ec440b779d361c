"""One access-log line per proxied request, without secrets from the path."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.gateway.servers import echo_upstream, start_gateway, token


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


async def test_access_log_names_the_operations_path_template(caplog: pytest.LogCaptureFixture) -> None:
    membership_doc = {
        "openapi": "3.1.0",
        "info": {"title": "membership", "version": "1"},
        "paths": {
            "/v1/communities": {"post": {"responses": {}}},
            "/v1/communities/{community_id}/members": {"post": {"responses": {}}},
            "/v1/communities/{community_id}/members/{user_id}": {"delete": {"responses": {}}},
            "/v1/invitations/{token}/accept": {"post": {"responses": {}}},
        },
    }
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with (
        echo_upstream("membership", openapi=membership_doc) as membership,
        start_gateway(membership_url=membership.url) as gateway,
    ):
        # Starting the gateway configured logging afresh, which took the capture handler off.
        logging.getLogger().addHandler(caplog.handler)
        # OPTIONS waits for the document; the log lines after it are then certain to use it.
        assert (await gateway.options("/v1/communities")).status_code == 204
        with caplog.at_level(logging.INFO, logger="weft.gateway.access"):
            await gateway.post("/v1/communities/c-42/members", headers=headers)
            await gateway.delete("/v1/communities/c-42/members/u-7", headers=headers)
            await gateway.post("/v1/invitations/secret-invitation-token/accept", headers=headers)
            await gateway.get("/v1/communities/c-42/not-an-operation", headers=headers)
    # Read once the gateway has stopped: by then every request has finished logging.
    lines = [r for r in caplog.records if r.name == "weft.gateway.access" and r.fields["method"] != "OPTIONS"]  # type: ignore[attr-defined]
    assert [r.getMessage() for r in lines] == [
        "POST /v1/communities/{community_id}/members 200",
        "DELETE /v1/communities/{community_id}/members/{user_id} 200",
        "POST /v1/invitations/{token}/accept 200",
        # Not in the document: the route's prefix, and nothing of the path below it.
        "GET /v1/communities/* 200",
    ]
    assert [r.fields["route"] for r in lines][:1] == ["/v1/communities/{community_id}/members"]  # type: ignore[attr-defined]
    assert not any("secret-invitation-token" in str(r.fields) for r in lines)  # type: ignore[attr-defined]
