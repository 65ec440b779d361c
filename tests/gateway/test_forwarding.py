"""What reaches a service through the gateway, and what comes back: real HTTP both ways."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.gateway.servers import EchoUpstream, start_gateway, token
from tests.support.api import problem
from weft_gateway.tracing import valid_traceparent

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def header(record: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in record["headers"] if key == name]


async def test_the_route_table_picks_the_upstream(
    gateway: httpx.AsyncClient, alice: dict[str, str], membership: EchoUpstream, events: EchoUpstream
) -> None:
    community = await gateway.get("/v1/communities/c1", headers=alice)
    community_events = await gateway.get("/v1/communities/c1/events", headers=alice)
    assert community.status_code == 200 and community_events.status_code == 200
    assert community.json()["service"] == "membership"
    assert community_events.json()["service"] == "events"
    assert [r["path"] for r in membership.requests_to("/v1/communities/c1")] == ["/v1/communities/c1"]
    assert [r["path"] for r in events.requests_to("/v1/communities/c1")] == ["/v1/communities/c1/events"]


async def test_method_path_query_and_body_arrive_unchanged(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await gateway.patch(
        "/v1/communities/c%20one/members?role=facilitator&q=a%2Fb&q=2",
        headers={**alice, "content-type": "application/json"},
        content=b'{"role": "facilitator"}',
    )
    received = response.json()
    assert received["method"] == "PATCH"
    assert received["path"] == "/v1/communities/c one/members"
    assert received["raw_path"] == "/v1/communities/c%20one/members"  # the client's encoding, not re-quoted
    assert received["query_string"] == "role=facilitator&q=a%2Fb&q=2"
    assert received["body"] == '{"role": "facilitator"}'
    assert header(received, "content-type") == ["application/json"]
    assert header(received, "content-length") == ["23"]


async def test_every_method_is_forwarded(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = await gateway.request(method, "/v1/events/e1", headers=alice)
        assert response.status_code == 200
        assert response.json()["method"] == method
    head = await gateway.head("/v1/events/e1", headers=alice)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 0


async def test_the_token_is_forwarded_unchanged_for_the_service_to_verify(
    gateway: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    received = (await gateway.get("/v1/me", headers=alice)).json()
    assert header(received, "authorization") == [alice["Authorization"]]


async def test_a_given_request_id_is_adopted_and_echoed(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await gateway.get("/v1/me", headers={**alice, "x-request-id": "req-123.abc"})
    assert header(response.json(), "x-request-id") == ["req-123.abc"]
    assert response.headers.get_list("x-request-id") == ["req-123.abc"]


async def test_a_missing_or_unsafe_request_id_is_created(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    for headers in (alice, {**alice, "x-request-id": "bad id with spaces"}):
        response = await gateway.get("/v1/me", headers=headers)
        forwarded = header(response.json(), "x-request-id")
        assert len(forwarded) == 1 and re.fullmatch(r"[0-9a-f]{32}", forwarded[0])
        # The client sees the same id the service logged.
        assert response.headers.get_list("x-request-id") == forwarded


async def test_a_valid_trace_context_is_continued(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    received = (
        await gateway.get("/v1/me", headers={**alice, "traceparent": TRACEPARENT, "tracestate": "vendor=opaque"})
    ).json()
    # The same trace, with the gateway's upstream call (its CLIENT span) as the service's parent.
    [traceparent] = header(received, "traceparent")
    assert valid_traceparent(traceparent)
    assert traceparent.split("-")[1] == TRACEPARENT.split("-")[1]
    assert traceparent.split("-")[2] != TRACEPARENT.split("-")[2]
    assert header(received, "tracestate") == ["vendor=opaque"]


async def test_without_a_valid_trace_context_a_new_trace_starts(
    gateway: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    for extra in ({}, {"traceparent": "00-nonsense", "tracestate": "vendor=opaque"}):
        received = (await gateway.get("/v1/me", headers={**alice, **extra})).json()
        [traceparent] = header(received, "traceparent")
        assert valid_traceparent(traceparent) and traceparent.split("-")[1] not in extra.get("traceparent", "")
        assert header(received, "tracestate") == []


async def test_forwarding_headers_state_what_the_gateway_saw(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    received = (
        await gateway.get("/v1/me", headers={**alice, "x-real-ip": "6.6.6.6", "forwarded": "for=6.6.6.6"})
    ).json()
    assert header(received, "x-forwarded-for") == ["127.0.0.1"]
    assert header(received, "x-forwarded-proto") == ["http"]
    assert header(received, "x-forwarded-host") == [str(gateway.base_url.netloc.decode())]
    # Spoofable client-supplied forwarding headers don't reach the service.
    assert header(received, "x-real-ip") == [] and header(received, "forwarded") == []
    # The service is addressed by its own host name.
    [host] = header(received, "host")
    assert host != gateway.base_url.netloc.decode()


async def test_a_client_address_from_a_trusted_proxy_is_forwarded_once(
    gateway: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default (--forwarded-allow-ips), so here the
    # client address is the one the "load balancer" reported, and the gateway restates it, once.
    received = (await gateway.get("/v1/me", headers={**alice, "x-forwarded-for": "203.0.113.7"})).json()
    assert header(received, "x-forwarded-for") == ["203.0.113.7"]


async def test_hop_by_hop_headers_are_not_forwarded(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    received = (
        await gateway.get(
            "/v1/me",
            headers={
                **alice,
                "connection": "keep-alive, x-private-hop",
                "x-private-hop": "secret",
                "keep-alive": "timeout=5",
                "te": "trailers",
                "trailer": "x-checksum",
                "proxy-authorization": "Basic c2VjcmV0",
                "x-end-to-end": "kept",
            },
        )
    ).json()
    names = {key for key, _ in received["headers"]}
    for hop in ("x-private-hop", "keep-alive", "te", "trailer", "proxy-authorization", "transfer-encoding"):
        assert hop not in names, hop
    assert header(received, "x-end-to-end") == ["kept"]


async def test_the_services_answer_comes_back_unchanged(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await gateway.post("/v1/events?status=201", headers=alice, json={"title": "Meetup"})
    assert response.status_code == 201
    assert response.headers["x-upstream"] == "events"
    assert response.headers["set-cookie"] == "session=abc; Path=/"
    assert response.json()["body"] == '{"title":"Meetup"}'
    for status in (400, 404, 409, 500):
        assert (await gateway.get(f"/v1/events/e1?status={status}", headers=alice)).status_code == status


async def test_response_headers_are_not_duplicated_or_hop_by_hop(
    gateway: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    response = await gateway.get("/v1/me", headers=alice)
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("x-request-id")) == 1
    assert len(response.headers.get_list("content-length")) == 1
    # The echo service names x-upstream-hop in its Connection header.
    assert "x-upstream-hop" not in response.headers


async def test_an_unsized_response_streams_through(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await gateway.get("/v1/me/attendance.csv?stream=500", headers=alice)
    assert response.status_code == 200
    assert response.text == "".join(f"chunk {i}\n" for i in range(500))
    assert "content-length" not in response.headers


async def test_a_large_response_streams_through_with_its_length(
    gateway: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    size = 3 * 1024 * 1024
    response = await gateway.get(f"/v1/me?size={size}", headers=alice)
    assert response.status_code == 200
    assert response.headers["content-length"] == str(size)
    assert response.content == b"x" * size


async def test_compressed_responses_pass_through_compressed(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await gateway.get("/v1/me?gzip=1", headers=alice)
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["path"] == "/v1/me"  # httpx decoded it, so the bytes were really gzip


async def test_a_service_stalling_mid_body_cuts_the_response_short(events: EchoUpstream, alice: dict[str, str]) -> None:
    async with start_gateway(events_url=events.url, upstream_timeout_seconds=0.2) as gateway:
        # A small sized body is read whole before answering, so a stall is still a clean 504.
        problem(await gateway.get("/v1/events?stall=1&sized=1", headers=alice), 504)
        # A streamed one has already started: the client must see a broken response, not a short one.
        with pytest.raises(httpx.RemoteProtocolError):
            await gateway.get("/v1/events?stall=1", headers=alice)
        assert (await gateway.get("/v1/events", headers=alice)).status_code == 200


async def test_a_chunked_request_body_is_forwarded_whole(gateway: httpx.AsyncClient, alice: dict[str, str]) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"first,", b"second,", b"third"):
            yield part

    received = (await gateway.post("/v1/events", headers=alice, content=chunks())).json()
    assert received["body"] == "first,second,third"
    assert header(received, "content-length") == ["18"]
    assert header(received, "transfer-encoding") == []


async def test_the_calendar_subscription_needs_no_token(gateway: httpx.AsyncClient, events: EchoUpstream) -> None:
    response = await gateway.get("/v1/calendar/feed-token-123.ics")
    assert response.status_code == 200
    assert response.json()["path"] == "/v1/calendar/feed-token-123.ics"
    assert header(response.json(), "authorization") == []


async def test_different_people_share_nothing(gateway: httpx.AsyncClient) -> None:
    bob = {"Authorization": f"Bearer {token('bob')}"}
    received = (await gateway.get("/v1/me", headers=bob)).json()
    assert header(received, "authorization") == [bob["Authorization"]]
    # The gateway keeps no cookie jar: a Set-Cookie from a service never reaches another caller.
    assert header(received, "cookie") == []
