"""RFC 9457 problem+json: one error shape for every Weft HTTP response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

# The JSON Schema of every body `problem_body` builds, published as the `Problem` component of
# each OpenAPI document. Open to extension members, as RFC 9457 §3.2 allows.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem details object.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI reference naming the problem type."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request path the problem occurred on."},
        "errors": {
            "type": "array",
            "description": "One entry per refused field.",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_REF = "#/components/schemas/Problem"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Problem(Exception):
    """An error that carries its HTTP status; raise it from anywhere in a request."""

    status: int = 400

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        errors: Sequence[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if status is not None:
            self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(self.status, "Error")
        self.errors = list(errors or [])
        self.headers = headers or {}


class NotFound(Problem):
    status = 404


class Forbidden(Problem):
    status = 403


class Unauthorized(Problem):
    status = 401

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="weft"'})


class Conflict(Problem):
    status = 409


class BadRequest(Problem):
    status = 400

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        errors = [{"field": field, "message": detail}] if field else None
        super().__init__(detail, errors=errors)


def problem_title(status: int) -> str:
    return _TITLES.get(status, "Error")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: these statuses answer with a problem+json body."""
    return {status: problem_response_doc(status) for status in statuses}


def problem_response_doc(status: int, description: str | None = None) -> dict[str, Any]:
    """One OpenAPI response object whose body is a Problem."""
    return {
        "description": description or problem_title(status),
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, title=title, instance=instance, errors=errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_name(loc: Sequence[Any]) -> str:
    # ("body", "name") -> "name"; ("query", "limit") -> "limit"; keep nested paths dotted.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _error_entry(error: dict[str, Any]) -> dict[str, Any]:
    if error.get("type") == "json_invalid":
        # FastAPI puts the character offset where a field would be: the problem is the whole body.
        loc = error.get("loc", ())
        where = f" at position {loc[-1]}" if len(loc) > 1 else ""
        reason = (error.get("ctx") or {}).get("error")
        return {"field": "body", "message": f"malformed JSON{where}" + (f": {reason}" if reason else "")}
    return {"field": _field_name(error.get("loc", ())), "message": error.get("msg", "invalid")}


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [_error_entry(e) for e in exc.errors()]


def _not_json(exc: RequestValidationError) -> bool:
    """FastAPI hands a route the raw bytes when the Content-Type is not JSON (text, form, XML, none)."""
    return any(tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes) for e in exc.errors())


def _body_parse_failure(exc: StarletteHTTPException) -> dict[str, Any] | None:
    """FastAPI's 400 for a body it could not even decode (non-UTF-8 bytes) names no field: name it."""
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None or exc.detail != "There was an error parsing the body":
        return None
    if isinstance(cause, UnicodeDecodeError):
        return {"field": "body", "message": f"the body is not UTF-8 text (byte {cause.start} cannot be read)"}
    return {"field": "body", "message": "the body cannot be read as JSON"}


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error this app can raise come out as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status, exc.detail, title=exc.title, instance=request.url.path, errors=exc.errors, headers=exc.headers
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if _not_json(exc):
            detail = "this route takes a JSON body: send it with Content-Type: application/json"
            return problem_response(
                415, detail, instance=request.url.path, errors=[{"field": "body", "message": detail}]
            )
        errors = validation_errors(exc)
        if any(e["field"] == "body" and e["message"].startswith("malformed JSON") for e in errors):
            return problem_response(422, errors[0]["message"], instance=request.url.path, errors=errors)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(422, f"invalid input: {fields}", instance=request.url.path, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        unreadable = _body_parse_failure(exc)
        if unreadable is not None:
            return problem_response(400, unreadable["message"], instance=request.url.path, errors=[unreadable])
        return problem_response(
            exc.status_code, str(exc.detail), instance=request.url.path, headers=getattr(exc, "headers", None)
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
