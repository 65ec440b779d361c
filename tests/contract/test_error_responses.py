"""Each service's OpenAPI document declares the problem responses its operations can give.

`weft contract` checks the running suite against these documents with schemathesis;
these tests pin the rules it relies on, quickly and without servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi import FastAPI

from weft_shared.errors import PROBLEM_JSON, PROBLEM_SCHEMA, problem_body

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
Operation = tuple[str, str, dict[str, Any]]


def membership_app() -> FastAPI:
    from weft_membership.app import create_app

    return create_app()


def events_app() -> FastAPI:
    from weft_events.app import create_app

    return create_app()


@pytest.fixture(params=[membership_app, events_app], ids=["membership", "events"])
def document(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("WEFT_ENV", "dev")
    build: Callable[[], FastAPI] = request.param
    return build().openapi()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def problem_statuses(operation: dict[str, Any]) -> set[str]:
    return {
        status
        for status, response in operation["responses"].items()
        if response.get("content", {}).get(PROBLEM_JSON, {}).get("schema") == PROBLEM_REF
    }


def test_the_problem_schema_is_a_component_and_fastapis_error_shapes_are_gone(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["Problem"] == PROBLEM_SCHEMA
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_operations_taking_a_caller_declare_the_bearer_scheme_and_401(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    secured = [(m, p, op) for m, p, op in operations(document) if op.get("security")]
    assert len(secured) >= 10
    for method, path, operation in secured:
        assert operation["security"] == [{"bearer": []}], (method, path)
        assert "401" in problem_statuses(operation), (method, path)


def test_every_error_an_operation_can_give_is_a_problem(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        declared = problem_statuses(operation)
        errors = {status for status in operation["responses"] if status.startswith(("4", "5"))}
        assert errors == declared, (method, path, errors - declared)
        has_input = bool(operation.get("parameters")) or "requestBody" in operation
        if has_input:
            assert {"400", "422"} <= declared, (method, path)
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            assert "404" in declared, (method, path)
            if method != "get":
                assert "409" in declared, (method, path)


def test_route_specific_errors_are_declared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEFT_ENV", "dev")
    paths = membership_app().openapi()["paths"]
    # A taken slug, and a spent or expired invitation.
    assert "409" in problem_statuses(paths["/v1/communities"]["post"])
    assert "410" in problem_statuses(paths["/v1/invitations/{token}/accept"]["post"])


def test_the_unauthenticated_calendar_feed_declares_no_401(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEFT_ENV", "dev")
    feed = events_app().openapi()["paths"]["/v1/calendar/{token}.ics"]["get"]
    assert "security" not in feed
    assert "401" not in feed["responses"]
    assert "404" in problem_statuses(feed)


def test_problem_bodies_match_the_published_schema() -> None:
    validator = jsonschema_rs.validator_for(PROBLEM_SCHEMA)
    plain = problem_body(404, "no such community", instance="/v1/communities/x")
    with_fields = problem_body(422, "invalid input: name", errors=[{"field": "name", "message": "too long"}])
    assert validator.is_valid(plain)
    assert validator.is_valid(with_fields)
    assert not validator.is_valid({"title": "Not Found", "status": 404})


def test_patch_bodies_say_what_their_validators_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    # schemathesis counted `PATCH {}` and `{"join_policy": null}` as valid requests wrongly refused.
    monkeypatch.setenv("WEFT_ENV", "dev")
    community = membership_app().openapi()["components"]["schemas"]["CommunityUpdate"]
    event = events_app().openapi()["components"]["schemas"]["EventUpdate"]
    assert community["minProperties"] == 1
    assert event["minProperties"] == 1
    assert all("anyOf" not in field for field in community["properties"].values())
    assert community["properties"]["join_policy"] == {"$ref": "#/components/schemas/JoinPolicy"}
    assert event["properties"]["title"]["type"] == "string"
    # Null still clears an optional event field, so the schema keeps allowing it there.
    assert {"type": "null"} in event["properties"]["capacity"]["anyOf"]
