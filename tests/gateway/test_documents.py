"""The gateway's own endpoints: merged OpenAPI, the AsyncAPI document, docs, health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.gateway.servers import echo_upstream, refused_url, start_gateway
from tests.support.api import problem
from weft_gateway.openapi import merge_documents
from weft_gateway.routes import ROUTES
from weft_shared.errors import PROBLEM_SCHEMA


def service_doc(paths: dict[str, Any], schemas: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "a service", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
        "tags": [{"name": t} for t in tags],
    }


def operation(operation_id: str, schema: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "responses": {"200": {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}},
    }


MEMBERSHIP_DOC = service_doc(
    {
        "/v1/communities/{community_id}": {"get": operation("get_community", "Community")},
        "/v1/me": {"get": operation("whoami", "Item")},
        # Routed to the events service by the gateway, so it can't be reached as membership's.
        "/v1/communities/{community_id}/events": {"get": operation("stray", "Item")},
    },
    {"Community": {"type": "object"}, "Item": {"title": "membership item"}, "Problem": PROBLEM_SCHEMA},
    ["communities"],
)
EVENTS_DOC = service_doc(
    {
        "/v1/communities/{community_id}/events": {"get": operation("list_events", "Item")},
        "/v1/events/{event_id}": {"get": operation("whoami", "Item")},
    },
    {"Item": {"title": "events item"}, "Problem": PROBLEM_SCHEMA},
    ["communities", "events"],
)


async def test_openapi_merges_the_services_that_answer() -> None:
    async with (
        echo_upstream("membership", openapi=MEMBERSHIP_DOC) as membership,
        echo_upstream("events", openapi=EVENTS_DOC) as events,
        start_gateway(membership_url=membership.url, events_url=events.url, resources_url=refused_url()) as gateway,
    ):
        response = await gateway.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        doc = response.json()

    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "Weft API"
    assert doc["info"]["x-weft-unavailable-services"] == ["resources"]
    assert set(doc["paths"]) == {
        "/v1/communities/{community_id}",
        "/v1/me",
        "/v1/communities/{community_id}/events",
        "/v1/events/{event_id}",
    }
    # The events path is the events service's operation, not membership's stray copy.
    assert doc["paths"]["/v1/communities/{community_id}/events"]["get"]["operationId"] == "list_events"
    schemas = doc["components"]["schemas"]
    # Identical components are shared; a same-named different one is renamed along with its refs.
    assert schemas["Problem"] == PROBLEM_SCHEMA
    assert schemas["Item"] == {"title": "membership item"}
    assert schemas["events_Item"] == {"title": "events item"}
    events_ref = doc["paths"]["/v1/events/{event_id}"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert events_ref == {"$ref": "#/components/schemas/events_Item"}
    # Operation ids stay unique.
    assert doc["paths"]["/v1/events/{event_id}"]["get"]["operationId"] == "events_whoami"
    assert [t["name"] for t in doc["tags"]] == ["communities", "events"]


async def test_openapi_with_no_service_reachable_is_still_a_document() -> None:
    async with start_gateway(membership_url=refused_url()) as gateway:
        response = await gateway.get("/openapi.json")
        assert response.status_code == 200
        assert response.json()["paths"] == {}


async def test_openapi_is_cached_briefly() -> None:
    async with (
        echo_upstream("membership", openapi=MEMBERSHIP_DOC) as membership,
        start_gateway(membership_url=membership.url, openapi_cache_seconds=3600) as gateway,
    ):
        first = (await gateway.get("/openapi.json")).json()
        membership.openapi = service_doc({}, {}, [])
        assert (await gateway.get("/openapi.json")).json() == first
    async with (
        echo_upstream("membership", openapi=MEMBERSHIP_DOC) as membership,
        start_gateway(membership_url=membership.url, openapi_cache_seconds=0) as gateway,
    ):
        assert "/v1/me" in (await gateway.get("/openapi.json")).json()["paths"]
        membership.openapi = service_doc({}, {}, [])
        assert (await gateway.get("/openapi.json")).json()["paths"] == {}


def test_merged_operations_keep_the_services_errors_and_add_the_gateways() -> None:
    service_404 = {"description": "Not Found", "content": {"application/problem+json": {"schema": {}}}}
    paths = {
        "/v1/communities/{community_id}": {
            "get": {"operationId": "get", "responses": {"200": {"description": "ok"}, "404": service_404}},
            "patch": {
                "operationId": "patch",
                "requestBody": {"content": {"application/json": {"schema": {}}}},
                "responses": {"200": {"description": "ok"}},
            },
        },
        # The calendar feed takes no token at the gateway: no 401 from it.
        "/v1/calendar/{token}.ics": {"get": {"operationId": "feed", "responses": {"200": {"description": "ok"}}}},
    }
    merged = merge_documents(
        [("membership", service_doc(paths, {}, [])), ("events", service_doc(paths, {}, []))],
        ROUTES,
        title="t",
        version="1",
    )
    community = merged["paths"]["/v1/communities/{community_id}"]
    assert community["get"]["responses"]["404"] == service_404
    assert set(community["get"]["responses"]) == {"200", "400", "401", "404", "429", "502", "503", "504"}
    # Only an operation that takes a body can be refused as too large.
    assert set(community["patch"]["responses"]) == {"200", "400", "401", "413", "429", "502", "503", "504"}
    assert "Retry-After" in community["get"]["responses"]["429"]["headers"]
    feed = merged["paths"]["/v1/calendar/{token}.ics"]["get"]["responses"]
    assert set(feed) == {"200", "400", "429", "502", "503", "504"}
    gateway_error = feed["502"]["content"]["application/problem+json"]["schema"]
    assert gateway_error == {"$ref": "#/components/schemas/Problem"}
    assert merged["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA


def test_a_services_different_problem_schema_does_not_replace_the_gateways() -> None:
    other = {"type": "object"}
    merged = merge_documents([("membership", service_doc({}, {"Problem": other}, []))], ROUTES, title="t", version="1")
    assert merged["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    assert merged["components"]["schemas"]["membership_Problem"] == other


def test_merge_rewrites_discriminator_mappings_too() -> None:
    first = service_doc({}, {"Pet": {"title": "first"}}, [])
    second = service_doc(
        {"/v1/events": {"get": operation("list", "Pet")}},
        {"Pet": {"title": "second"}, "Owner": {"discriminator": {"mapping": {"pet": "#/components/schemas/Pet"}}}},
        [],
    )
    merged = merge_documents([("membership", first), ("events", second)], ROUTES, title="t", version="1")
    assert merged["components"]["schemas"]["Owner"]["discriminator"]["mapping"] == {
        "pet": "#/components/schemas/events_Pet"
    }


async def test_the_docs_page_shows_the_merged_document() -> None:
    async with start_gateway() as gateway:
        response = await gateway.get("/docs")
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]
        assert "/openapi.json" in response.text


async def test_asyncapi_is_served_from_the_configured_file(tmp_path: Path) -> None:
    document = tmp_path / "asyncapi.json"
    document.write_text('{"asyncapi": "3.0.0", "info": {"title": "Weft messages", "version": "1"}}')
    async with start_gateway(asyncapi_path=document) as gateway:
        response = await gateway.get("/asyncapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["asyncapi"] == "3.0.0"


async def test_a_missing_or_broken_asyncapi_file_is_503(tmp_path: Path) -> None:
    async with start_gateway(asyncapi_path=tmp_path / "absent.json") as gateway:
        problem(await gateway.get("/asyncapi.json"), 503)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    async with start_gateway(asyncapi_path=broken) as gateway:
        problem(await gateway.get("/asyncapi.json"), 503)


async def test_liveness_needs_nothing_but_the_process() -> None:
    async with start_gateway(membership_url=refused_url()) as gateway:
        response = await gateway.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


async def test_ready_when_every_configured_service_answers_its_healthz() -> None:
    async with (
        echo_upstream("membership") as membership,
        echo_upstream("events") as events,
        start_gateway(membership_url=membership.url, events_url=events.url) as gateway,
    ):
        ready = await gateway.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"membership": "ok", "events": "ok"}
        events.healthy = False
        not_ready = await gateway.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["membership"] == "ok"
        assert not_ready.json()["checks"]["events"].startswith("failing")


async def test_not_ready_while_a_configured_service_is_down() -> None:
    async with start_gateway(membership_url=refused_url()) as gateway:
        response = await gateway.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["membership"].startswith("failing")
