"""One access-log line per proxied request, without secrets from the path."""

from __future__ import annotations

import logging
import re

import httpx
import orjson
import pytest

from tests.gateway.servers import EchoUpstream, echo_upstream, start_gateway, token
from tests.support.log_capture import capture_root_lines
from weft_shared.observability import JsonFormatter, TextFormatter


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
    assert fields[0]["route"] == "/v1/calendar/{token}.ics" and fields[0]["upstream"] == "events"
    assert fields[1]["route"].startswith("/v1/communities") and fields[1]["upstream"] == "membership"
    assert all(f["duration_ms"] >= 0 for f in fields)
    # Who asked (the token's subject, never the token) and which request it was.
    assert [f["subject"] for f in fields] == [None, "alice", None]
    assert fields[0]["request_id"] == "log-me-1"
    assert all(f["request_id"] for f in fields)
    assert not any(alice["Authorization"].split()[1] in r.getMessage() + str(r.fields) for r in lines)  # type: ignore[attr-defined]
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
    # The duration varies; the rest of each line is fixed.
    assert [re.sub(r" in [0-9.]+ ms ", " in N ms ", r.getMessage()) for r in lines] == [
        "POST /v1/communities/{community_id}/members 200 in N ms (membership, sub=alice)",
        "DELETE /v1/communities/{community_id}/members/{user_id} 200 in N ms (membership, sub=alice)",
        "POST /v1/invitations/{token}/accept 200 in N ms (membership, sub=alice)",
        # Not in the document: the route's prefix, and nothing of the path below it.
        "GET /v1/communities/* 200 in N ms (membership, sub=alice)",
    ]
    assert [r.fields["route"] for r in lines][:1] == ["/v1/communities/{community_id}/members"]  # type: ignore[attr-defined]
    assert not any("secret-invitation-token" in str(r.fields) for r in lines)  # type: ignore[attr-defined]


async def test_access_line_reads_as_text_and_parses_as_json(membership: EchoUpstream) -> None:
    """Both log formats carry the request id; JSON has each part as its own field."""
    async with start_gateway(membership_url=membership.url) as gateway:
        # Added once the gateway has configured logging (which replaces the root's handlers).
        with (
            capture_root_lines(JsonFormatter("gateway")) as json_lines,
            capture_root_lines(TextFormatter("gateway")) as text_lines,
        ):
            answer = await gateway.post(
                "/v1/communities", headers={"X-Request-ID": "find-me-42", "Authorization": f"Bearer {token('ana')}"}
            )
    assert answer.headers["x-request-id"] == "find-me-42"
    access = [orjson.loads(line) for line in json_lines if '"weft.gateway.access"' in line]
    assert len(access) == 1
    entry = access[0]
    assert (
        entry["request_id"] == "find-me-42"
        and entry["subject"] == "ana"
        and entry["upstream"] == "membership"
        and entry["service"] == "gateway"
    )
    assert entry["route"] == "/v1/communities" and entry["status"] == 200 and entry["duration_ms"] >= 0
    text = [line for line in text_lines if "weft.gateway.access" in line]
    assert len(text) == 1
    assert re.search(r"\[find-me-42\] \(trace [0-9a-f]{32}\): POST /v1/communities 200 in ", text[0]), text[0]
    assert text[0].endswith("(membership, sub=ana)")
    assert entry["trace_id"] in text[0]  # both formats name the request's trace
