"""What the gateway refuses itself, and how it reports services it cannot reach (problem+json)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import jwt

from tests.gateway.servers import (
    EchoUpstream,
    echo_upstream,
    refused_url,
    resetting_upstream,
    silent_upstream,
    start_gateway,
    token,
)
from tests.support.api import problem
from weft_shared.settings import DEV_ISSUER


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def forged_token() -> str:
    claims = {"sub": "mallory", "iss": DEV_ISSUER, "aud": "weft", "exp": 4_000_000_000}
    return jwt.encode(claims, "not-the-signing-key-not-the-signing-key", algorithm="HS256")


async def test_bad_credentials_are_refused_before_any_upstream_call(
    gateway: httpx.AsyncClient, membership: EchoUpstream
) -> None:
    cases = {
        "missing": {},
        "not bearer": {"Authorization": f"Basic {token()}"},
        "empty bearer": {"Authorization": "Bearer"},
        "garbage": bearer("not-a-jwt"),
        "forged": bearer(forged_token()),
        "expired": bearer(token(ttl_seconds=-60)),
    }
    before = len(membership.received)
    for case, headers in cases.items():
        response = await gateway.get("/v1/communities/c1", headers=headers)
        body = problem(response, 401)
        assert body["instance"] == "/v1/communities/c1", case
        assert response.headers["www-authenticate"].startswith("Bearer"), case
    assert len(membership.received) == before
    assert "expired" in problem(await gateway.get("/v1/me", headers=bearer(token(ttl_seconds=-60))), 401)["detail"]


async def test_unknown_paths_are_404_problems(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    for path in ("/v1/unknown", "/v1/", "/nothing-here"):
        assert problem(await gateway.get(path, headers=alice), 404)["instance"] == path


async def test_dot_segments_are_refused(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    # Percent-encoded so the client sends them as they are; the gateway sees the decoded "..".
    problem(await gateway.get("/v1/communities/%2E%2E/admin", headers=alice), 400)


async def test_a_service_that_is_not_configured_is_503(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    body = problem(await gateway.get("/v1/me/notifications", headers=alice), 503)
    assert "notifications" in body["detail"]


async def test_a_refused_connection_is_502(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    body = problem(await gateway.get("/v1/resources/r1", headers=alice), 502)
    assert "resources" in body["detail"]


async def test_a_reset_connection_is_502(alice: dict[str, str]) -> None:
    async with resetting_upstream() as url, start_gateway(events_url=url) as gateway:
        problem(await gateway.get("/v1/events", headers=alice), 502)
        problem(await gateway.post("/v1/events", headers=alice, json={}), 502)


async def test_a_service_that_never_answers_is_504(alice: dict[str, str]) -> None:
    async with silent_upstream() as url, start_gateway(events_url=url, upstream_timeout_seconds=0.3) as gateway:
        response = await gateway.get("/v1/events", headers=alice)
        assert "did not answer in time" in problem(response, 504)["detail"]


async def test_too_large_bodies_are_413_with_or_without_content_length(
    events: EchoUpstream, alice: dict[str, str]
) -> None:
    async def chunked(total: int) -> AsyncIterator[bytes]:
        for _ in range(total // 256):
            yield b"x" * 256

    async with start_gateway(events_url=events.url, max_body_bytes=1024) as gateway:
        before = len(events.received)
        problem(await gateway.post("/v1/events", headers=alice, content=b"x" * 1025), 413)
        problem(await gateway.post("/v1/events", headers=alice, content=chunked(4096)), 413)
        assert len(events.received) == before
        # At the limit is fine, either way.
        assert (await gateway.post("/v1/events", headers=alice, content=b"x" * 1024)).status_code == 200
        received = (await gateway.post("/v1/events", headers=alice, content=chunked(1024))).json()
        assert len(received["body"]) == 1024


async def test_a_body_far_over_the_limit_is_refused_from_its_content_length(
    events: EchoUpstream, alice: dict[str, str]
) -> None:
    async with start_gateway(events_url=events.url) as gateway:  # default limit: 1 MiB
        problem(await gateway.put("/v1/events/e1", headers=alice, content=b"x" * (2 * 1024 * 1024)), 413)
        assert (await gateway.put("/v1/events/e1", headers=alice, content=b"x" * 1024 * 1024)).status_code == 200


async def test_each_principal_gets_a_burst_then_429_with_retry_after(
    membership: EchoUpstream, alice: dict[str, str]
) -> None:
    async with start_gateway(membership_url=membership.url, rate_limit_per_minute=1, rate_limit_burst=3) as gateway:
        statuses = [(await gateway.get("/v1/me", headers=alice)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await gateway.get("/v1/me", headers=alice)
        problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        # A fresh token for the same person is the same principal.
        problem(await gateway.get("/v1/me", headers=bearer(token("alice", ttl_seconds=600))), 429)
        # Someone else has their own bucket.
        assert (await gateway.get("/v1/me", headers=bearer(token("bob")))).status_code == 200


async def test_unauthenticated_routes_are_limited_per_client_address(events: EchoUpstream) -> None:
    async with start_gateway(events_url=events.url, rate_limit_per_minute=1, rate_limit_burst=2) as gateway:
        assert [(await gateway.get("/v1/calendar/t.ics")).status_code for _ in range(2)] == [200, 200]
        response = await gateway.get("/v1/calendar/t.ics")
        problem(response, 429)
        assert "retry-after" in response.headers
        # Another address (as reported by a trusted proxy in front) has its own bucket.
        other = await gateway.get("/v1/calendar/t.ics", headers={"x-forwarded-for": "198.51.100.9"})
        assert other.status_code == 200


async def test_limits_are_checked_before_the_service_is(alice: dict[str, str]) -> None:
    # Not configured at all: the caller still has to authenticate first.
    async with start_gateway(notifications_url=None) as gateway:
        problem(await gateway.get("/v1/webhooks"), 401)
        problem(await gateway.get("/v1/webhooks", headers=alice), 503)


async def test_a_service_that_comes_back_is_reached_again(alice: dict[str, str]) -> None:
    url = refused_url()
    async with start_gateway(events_url=url) as gateway:
        problem(await gateway.get("/v1/events", headers=alice), 502)
        async with echo_upstream("events", port=int(url.rsplit(":", 1)[1])):
            assert (await gateway.get("/v1/events", headers=alice)).status_code == 200
