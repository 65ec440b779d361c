"""The suite driven exactly as a client would: HTTP to the gateway, messages on NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.api import create_community, join, new_person, problem
from tests.support.bus import types_of, wait_for_messages
from weft_cli.testing import ServiceProcess
from weft_shared.contracts.subjects import community_wildcard


@pytest.fixture
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=15) as http:
        yield http


async def test_a_community_is_created_joined_and_announced(web: httpx.AsyncClient, nats_server) -> None:  # type: ignore[no-untyped-def]
    ana, ben = new_person("ana"), new_person("ben")
    community = await create_community(web, ana, join_policy="approval", visibility="private")
    cid = community["id"]
    asked = await join(web, cid, ben, message="Hello")
    assert asked.status_code == 202
    request_id = asked.json()["request_id"]
    approved = await web.post(f"/v1/communities/{cid}/requests/{request_id}/approve", headers=ana.headers)
    assert approved.status_code == 200, approved.text
    members = await web.get(f"/v1/communities/{cid}/members", headers=ben.headers)
    assert {m["user_id"] for m in members.json()["items"]} == {ana.user_id, ben.user_id}

    messages = await wait_for_messages(nats_server.url, community_wildcard("weft", cid), at_least=5)
    assert types_of(messages) == [
        "org.weft.community.created.v1",
        "org.weft.member.joined.v1",
        "org.weft.join.requested.v1",
        "org.weft.join.approved.v1",
        "org.weft.member.joined.v1",
    ]


async def test_the_gateway_refuses_bad_tokens_before_the_service(web: httpx.AsyncClient) -> None:
    problem(await web.get("/v1/communities"), 401)
    problem(await web.get("/v1/communities", headers={"Authorization": "Bearer forged.token.here"}), 401)
    problem(await web.get("/v1/nothing-here", headers=new_person().headers), 404)


async def test_request_ids_travel_and_errors_are_problems(web: httpx.AsyncClient) -> None:
    person = new_person()
    response = await web.get("/v1/communities/unknown-id", headers={**person.headers, "X-Request-ID": "trace-me-123"})
    problem(response, 404)
    assert response.headers["x-request-id"] == "trace-me-123"
    bad = await web.post("/v1/communities", json={"name": ["x"], "purpose": "p"}, headers=person.headers)
    assert problem(bad, 422)["errors"][0]["field"] == "name"


async def test_merged_openapi_and_asyncapi_are_served(web: httpx.AsyncClient) -> None:
    openapi = (await web.get("/openapi.json")).json()
    assert "/v1/communities/{community_id}/members" in openapi["paths"]
    assert "/v1/people" in openapi["paths"]
    asyncapi = await web.get("/asyncapi.json")
    assert asyncapi.status_code == 200
    assert "org.weft.member.joined.v1" in asyncapi.json()["channels"]
    docs = await web.get("/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


async def test_an_event_through_the_gateway(web: httpx.AsyncClient) -> None:
    from tests.events.conftest import event_body, eventually

    owner, member = new_person("owner"), new_person("member")
    cid = (await create_community(web, owner))["id"]
    await join(web, cid, member)

    async def scheduled() -> httpx.Response | None:
        response = await web.post(f"/v1/communities/{cid}/events", json=event_body(), headers=owner.headers)
        return response if response.status_code == 201 else None

    eid = (await eventually(scheduled, what="the event to be scheduled")).json()["id"]

    async def rsvp() -> httpx.Response | None:
        response = await web.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=member.headers)
        return response if response.status_code == 201 else None

    assert (await eventually(rsvp, what="the member's RSVP")).json()["status"] == "confirmed"
    listed = (await web.get(f"/v1/communities/{cid}/events", headers=member.headers)).json()
    assert [e["id"] for e in listed["items"]] == [eid]
    openapi = (await web.get("/openapi.json")).json()
    assert (
        "/v1/events/{event_id}/rsvp" in openapi["paths"]
        and "/v1/communities/{community_id}/members" in openapi["paths"]
    )


async def test_a_trailing_slash_is_a_404_never_a_redirect_to_a_service(web: httpx.AsyncClient) -> None:
    """Starlette's slash redirect named the service's own address, sending clients past the gateway."""
    person = new_person()
    cid = (await create_community(web, person))["id"]
    for method, path in [
        ("GET", "/v1/communities/"),
        ("POST", "/v1/communities/"),
        ("GET", f"/v1/communities/{cid}/"),
        ("GET", f"/v1/communities/{cid}/events/"),
    ]:
        response = await web.request(method, path, headers=person.headers)
        problem(response, 404)
        assert "location" not in response.headers, (method, path, response.headers)
