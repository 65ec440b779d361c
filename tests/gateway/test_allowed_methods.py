"""OPTIONS and 405 name every method a path has, from the merged OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.gateway.servers import EchoUpstream, echo_upstream, start_gateway, token
from tests.support.api import create_community, new_person
from weft_cli.testing import ServiceProcess


def service_doc(paths: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "a service", "version": "1"},
        "paths": {
            template: {m: {"operationId": f"{m}{template}", "responses": {}} for m in methods}
            for template, methods in paths.items()
        },
    }


MEMBERSHIP_DOC = service_doc(
    {
        "/v1/communities/{community_id}": ["get", "patch"],
        "/v1/communities/{community_id}/members": ["get", "post"],
        "/v1/communities/{community_id}/members/{user_id}": ["delete"],
        "/v1/communities/{community_id}/members/me": ["get"],
    }
)
EVENTS_DOC = service_doc({"/v1/communities/{community_id}/events": ["get", "post"]})


@pytest.fixture(scope="module")
async def upstreams() -> AsyncIterator[tuple[EchoUpstream, EchoUpstream]]:
    async with (
        echo_upstream("membership", openapi=MEMBERSHIP_DOC) as membership,
        echo_upstream("events", openapi=EVENTS_DOC) as events,
    ):
        yield membership, events


@pytest.fixture(scope="module")
async def gateway(upstreams: tuple[EchoUpstream, EchoUpstream]) -> AsyncIterator[httpx.AsyncClient]:
    membership, events = upstreams
    async with start_gateway(membership_url=membership.url, events_url=events.url) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/communities/c1", "GET, HEAD, OPTIONS, PATCH"),
        ("/v1/communities/c1/members", "GET, HEAD, OPTIONS, POST"),
        ("/v1/communities/c1/members/u1", "DELETE, OPTIONS"),
        # A literal segment wins over a parameter in the same place.
        ("/v1/communities/c1/members/me", "GET, HEAD, OPTIONS"),
        ("/v1/communities/c1/events", "GET, HEAD, OPTIONS, POST"),
    ],
)
async def test_options_lists_every_method_of_the_path_without_a_token(
    gateway: httpx.AsyncClient, upstreams: tuple[EchoUpstream, EchoUpstream], path: str, allow: str
) -> None:
    before = [len(u.received) for u in upstreams]
    response = await gateway.options(path)
    assert response.status_code == 204
    assert response.headers["allow"] == allow
    assert response.content == b""
    assert [len(u.received) for u in upstreams] == before  # answered at the gateway


async def test_a_405_from_a_service_carries_the_full_allow(
    gateway: httpx.AsyncClient, upstreams: tuple[EchoUpstream, EchoUpstream]
) -> None:
    # The echo service answers as Starlette does: `Allow: GET`, the first matching route's only.
    headers = {"Authorization": f"Bearer {token()}"}
    response = await gateway.put("/v1/communities/c1?status=405", headers=headers, content=b"{}")
    assert response.status_code == 405
    assert response.headers.get_list("allow") == ["GET, HEAD, OPTIONS, PATCH"]
    # A path the document doesn't know keeps the service's own answer.
    unknown = await gateway.put("/v1/communities/c1/unknown?status=405", headers=headers, content=b"{}")
    assert unknown.headers.get_list("allow") == ["GET"]


async def test_options_on_a_path_the_document_does_not_know_goes_to_the_service(
    gateway: httpx.AsyncClient, upstreams: tuple[EchoUpstream, EchoUpstream]
) -> None:
    membership, _ = upstreams
    response = await gateway.options(
        "/v1/communities/c1/not-documented", headers={"Authorization": f"Bearer {token()}"}
    )
    assert response.status_code == 200
    assert membership.received[-1]["method"] == "OPTIONS"


async def test_the_real_services_paths_list_all_their_methods(gateway_service: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=15) as client:
        owner = new_person("owner")
        community = await create_community(client, owner)
        path = f"/v1/communities/{community['id']}"
        options = await client.options(path)
        assert options.status_code == 204
        assert {"GET", "PATCH"} <= set(options.headers["allow"].split(", "))
        wrong = await client.put(path, headers=owner.headers, json={})
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == options.headers["allow"]


async def test_a_service_reached_directly_lists_all_methods_too(membership_service: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=membership_service.url, timeout=15) as client:
        owner = new_person("owner")
        community = await create_community(client, owner)
        path = f"/v1/communities/{community['id']}"
        options = await client.options(path)
        assert options.status_code == 204
        assert options.headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
        wrong = await client.put(path, headers=owner.headers, json={})
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "GET, HEAD, OPTIONS, PATCH"
        assert wrong.headers["content-type"].startswith("application/problem+json")
        # Paths the service doesn't have stay 404.
        assert (await client.options("/v1/nothing-here")).status_code == 404
