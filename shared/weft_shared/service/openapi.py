"""Every service's OpenAPI document declares the errors its operations can answer.

FastAPI documents only the success response and its own 422 shape. Weft answers
every error as problem+json (`weft_shared.errors`), so after FastAPI builds the
document this adds, per operation, the problem responses the shared machinery
makes possible: 401/403 where a token is required, 404 where the path names a
thing, 400/422 where there is input, 409 where a write meets a thing's state.
A route declares only what is specific to it (`responses=problem_responses(410)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from weft_shared.errors import PROBLEM_SCHEMA, problem_response_doc

Document = dict[str, Any]

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_SAFE_METHODS = frozenset({"get", "head", "options"})
# FastAPI's own validation error shapes, unused once 422 is a Problem.
_FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_error_responses(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json`) declare every problem response."""
    build = app.openapi

    def openapi() -> Document:
        if app.openapi_schema is None:
            document = build()
            declare_error_responses(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_error_responses(document: Document) -> Document:
    """Add the problem responses each operation can give, in place; returns the document."""
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in _error_statuses(method, operation):
                # FastAPI's 422 describes its own body; ours is a Problem.
                if status == 422 or str(status) not in responses:
                    responses[str(status)] = problem_response_doc(status)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in _FASTAPI_ERROR_SCHEMAS:
        if name in schemas and not _referenced(document, name):
            del schemas[name]
    return document


def _error_statuses(method: str, operation: Document) -> list[int]:
    parameters = operation.get("parameters") or []
    has_path_ids = any(p.get("in") == "path" for p in parameters)
    has_input = bool(parameters) or "requestBody" in operation
    statuses: set[int] = set()
    if has_input:
        # 400: a value the schema allows that a rule refuses (a malformed cursor, a window too wide).
        statuses |= {400, 422}
    if "requestBody" in operation:
        statuses.add(415)  # a body that is not JSON (errors.py)
    if operation.get("security"):
        # Set by `CurrentUser` (its documented bearer scheme): no valid token.
        statuses.add(401)
    if has_path_ids:
        # The caller may not see it, or may see it but not do this to it.
        statuses |= {403, 404} if operation.get("security") else {404}
        if method not in _SAFE_METHODS:
            # A write on a thing meets its state: archived, cancelled, already decided.
            statuses.add(409)
    return sorted(statuses)


def _referenced(document: Document, name: str) -> bool:
    ref = f'"#/components/schemas/{name}"'
    schemas = (document.get("components") or {}).get("schemas") or {}
    others = {key: value for key, value in schemas.items() if key != name}
    return ref in json.dumps({"paths": document.get("paths"), "schemas": others})


def patch_body_schema(*never_null: str) -> Callable[[dict[str, Any]], None]:
    """`json_schema_extra` for a PATCH body: say in the schema what its validator refuses —
    an empty body (`minProperties: 1`), and null for the fields named (all when none are)."""

    def adjust(schema: dict[str, Any]) -> None:
        schema["minProperties"] = 1
        for name, field in (schema.get("properties") or {}).items():
            if never_null and name not in never_null:
                continue
            options = field.get("anyOf")
            if not options or {"type": "null"} not in options:
                continue
            rest = [option for option in options if option != {"type": "null"}]
            del field["anyOf"]
            field.pop("default", None)
            if len(rest) == 1:
                field.update(rest[0])
            else:
                field["anyOf"] = rest

    return adjust
