"""Logs that carry the request id and trace id (JSON or text), and the ASGI middleware that sets the request id."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson
from pymongo.errors import ConnectionFailure
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weft_shared.errors import problem_response
from weft_shared.tracing import current_trace_id

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("weft.http")


def _record_fields(record: logging.LogRecord) -> dict[str, Any]:
    extra = getattr(record, "fields", None)
    return extra if isinstance(extra, dict) else {}


def _request_id(record: logging.LogRecord) -> str | None:
    # A line may name its request itself (the access line does); otherwise the one being handled.
    return _record_fields(record).get("request_id") or request_id_var.get()


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = _request_id(record)
        if rid:
            entry["request_id"] = rid
        trace_id = current_trace_id()
        if trace_id:
            entry["trace_id"] = trace_id
        entry.update(_record_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One line for a person: `<time> <service> <LEVEL> <logger> [<request id>] (trace <id>): <message>`.

    The request id is printed whole, so the id in a 500 answer can be grepped for.
    """

    def __init__(self, service: str) -> None:
        super().__init__("%(asctime)s " + service + " %(levelname)s %(name)s%(request_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = _request_id(record)
        trace_id = current_trace_id()
        record.request_tag = (f" [{rid}]" if rid else "") + (f" (trace {trace_id})" if trace_id else "")
        return super().format(record)


def configure_logging(service: str, *, level: str = "INFO", json_logs: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service) if json_logs else TextFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log duplicates ours and carries no request id.
    logging.getLogger("uvicorn.access").disabled = True


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Adopts or creates `X-Request-ID`, exposes it to logs, echoes it in the response.

    It is also where an unexpected error is logged, once, and answered 500 while the id is
    still known: left to Starlette's error middleware (outside this one) the line and the
    answer would carry no id, and uvicorn would print the same traceback a second time.
    An error raised after a complete answer was logged by whoever answered, so it stops here.

    Plain ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope["headers"])
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        started = complete = False

        async def send_with_id(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if complete:
                return  # answered (with Connection: close) and logged by the code that answered
            response = unexpected_error_response(scope["method"], _route_of(scope), exc)
            if started:
                return  # uvicorn closes a connection whose answer was cut off
            await response(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def unexpected_error_response(method: str, route: str, exc: BaseException) -> Response:
    """The answer to an exception nothing handled: 503 while the database cannot be reached
    (a client may retry, as after a restart), else a logged 500."""
    if isinstance(exc, ConnectionFailure):
        log.warning("database unreachable on %s %s: %s: %s", method, route, type(exc).__name__, exc)
        return problem_response(
            503, "the database is unavailable; retry shortly", headers={"Retry-After": "1", "Connection": "close"}
        )
    log.error("unhandled error on %s %s", method, route, exc_info=exc)
    # Starlette re-raises after this answer and uvicorn then drops the connection: say so, or a
    # client's pool (the gateway's) reuses it and another request fails.
    return problem_response(
        500, "internal error; the request id identifies it in the logs", headers={"Connection": "close"}
    )


def _route_of(scope: Scope) -> str:
    # The route template, not the path: paths can carry secrets (feed and invitation tokens).
    return getattr(scope.get("route"), "path", None) or "(no route)"
