"""Forwarding one `/v1/...` request to the service that owns it.

A plain ASGI callable on purpose: this is every API request's hot path, so it reads
the raw scope once and skips FastAPI's request/dependency machinery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from urllib.parse import quote

import aiohttp
import anyio
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode, Tracer
from starlette.types import Message, Receive, Scope, Send
from yarl import URL

from weft_gateway.metrics import GatewayMetrics
from weft_gateway.operations import OperationIndex
from weft_gateway.ratelimit import retry_after_header
from weft_gateway.routes import RouteTable
from weft_gateway.shared_ratelimit import SharedRateLimiter
from weft_gateway.tracing import incoming_context
from weft_gateway.upstreams import Upstreams
from weft_shared.auth import TokenVerifier, bearer_token
from weft_shared.errors import BadRequest, NotFound, Problem, Unauthorized, problem_response
from weft_shared.observability import incoming_request_id
from weft_shared.service.shutdown import until_stopping
from weft_shared.tracing import inject

log = logging.getLogger("weft.gateway.proxy")
access_log = logging.getLogger("weft.gateway.access")
# Where the proxy leaves the verified principal's subject for the access line.
PRINCIPAL_STATE = "principal_subject"
# Where the access line leaves the route template it worked out, so the metrics need not again.
ROUTE_TEMPLATE_STATE = "route_template"

# RFC 9110 §7.6.1: these describe one connection, not the message, so they never cross the gateway.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
# Request headers the gateway sets itself (or that aiohttp derives from the body and URL).
# Incoming forwarding headers are dropped, not extended: the gateway is the trust boundary and
# states the client address it saw (uvicorn's --proxy-headers handles a load balancer in front).
_REQUEST_REPLACED = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"expect",
    b"x-request-id",
    b"traceparent",
    b"tracestate",
    b"forwarded",
    b"x-forwarded-for",
    b"x-forwarded-proto",
    b"x-forwarded-host",
    b"x-real-ip",
}
# Request headers that must come once: two copies would let the gateway and the service read
# different ones (the gateway checks one token, the service acts on another; or body smuggling).
_SINGLE = {name: name.decode().title() for name in (b"authorization", b"content-type", b"content-length", b"host")}
_SINGLE[b"idempotency-key"] = "Idempotency-Key"
# uvicorn adds its own date/server and the request id middleware its own X-Request-ID; don't send two.
_RESPONSE_DROPPED = HOP_BY_HOP | {b"date", b"server", b"x-request-id"}
# Responses up to this size are read whole and sent in one write; larger or unsized ones stream.
_BUFFERED_RESPONSE_BYTES = 256 * 1024


class _ClientGone(Exception):
    """The client disconnected before the request was forwarded."""


class Proxy:
    def __init__(
        self,
        *,
        routes: RouteTable,
        operations: OperationIndex,
        upstreams: Upstreams,
        verifier: TokenVerifier,
        limiter: SharedRateLimiter,
        max_body_bytes: int,
        max_upload_bytes: int | None = None,
        access_log: bool = True,
        tracer: Tracer | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.tracer = tracer or trace.get_tracer("weft")
        self.routes = routes
        self.operations = operations
        self.upstreams = upstreams
        self.verifier = verifier
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_body_bytes if max_upload_bytes is None else max_upload_bytes
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        status = 0
        began = time.perf_counter()

        async def tracked_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                status = message["status"]
            started = True
            await send(message)

        method: str = scope["method"]
        template = self._template(scope["path"])
        traceparents = [v.decode("latin-1").strip() for k, v in scope["headers"] if k == b"traceparent"]
        tracestates = [v.decode("latin-1").strip() for k, v in scope["headers"] if k == b"tracestate"]
        with self.tracer.start_as_current_span(
            f"{method} {template}",
            context=incoming_context(traceparents, tracestates),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "http.route": template},
        ) as span:
            try:
                await self._handle(scope, receive, tracked_send, template)
            finally:
                if status:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                if self.access_log:
                    self._log_access(scope, status, began, template)

    def route_template(self, scope: Scope, _root_path: str = "") -> str:
        """The request's route template, for the HTTP metrics (the access line's, when it named one)."""
        known: str | None = scope.get("state", {}).get(ROUTE_TEMPLATE_STATE)
        return known or self._template(scope["path"])

    def _template(self, path: str) -> str:
        """The path template, not the raw path: paths can carry secrets (invitation and
        calendar-feed tokens) that must not end up in logs."""
        route = self.routes.match(path)
        if route is None:
            return "(no route)"
        operations = self.operations.latest().match(path)
        if operations is not None:
            return operations.template
        # Not in the document (yet, or at all): the route's prefix, and no more of the path.
        return route.template if path == route.template or not route.subtree else route.template + "/*"

    def _log_access(self, scope: Scope, status: int, began: float, template: str) -> None:
        path: str = scope["path"]
        route = self.routes.match(path)
        service = route.service if route else None
        state = scope.setdefault("state", {})
        state[ROUTE_TEMPLATE_STATE] = template
        subject: str | None = state.get(PRINCIPAL_STATE)  # the token's subject, never the token
        duration_ms = round((time.perf_counter() - began) * 1000, 2)
        access_log.info(
            "%s %s %s in %.1f ms (%s, sub=%s)",
            scope["method"],
            template,
            status or "aborted",
            duration_ms,
            service or "-",
            subject or "-",
            extra={
                "fields": {
                    "method": scope["method"],
                    "route": template if route else None,
                    "upstream": service,
                    "status": status or None,
                    "duration_ms": duration_ms,
                    "subject": subject,
                    "request_id": state.get("request_id"),
                }
            },
        )

    async def _handle(self, scope: Scope, receive: Receive, send: Send, template: str) -> None:
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._forward(scope, receive, tracked_send, template)
        except Problem as exc:
            response = problem_response(
                exc.status, exc.detail, title=exc.title, instance=scope["path"], errors=exc.errors, headers=exc.headers
            )
            await response(scope, receive, send)
        except _ClientGone:
            pass
        except Exception:
            if started:
                raise  # cut off mid-answer: RequestIdMiddleware logs it, once
            # This path bypasses FastAPI's error handling, so it answers unexpected errors itself.
            log.exception("unhandled error proxying %s %s", scope["method"], template)
            await problem_response(500, "internal error; the request id identifies it in the logs")(
                scope, receive, send
            )

    async def _forward(self, scope: Scope, receive: Receive, send: Send, template: str) -> None:
        path: str = scope["path"]
        route = self.routes.match(path)
        if route is None:
            raise NotFound(f"no service serves {path}")
        if "/." in path and any(seg in (".", "..") for seg in path.split("/")):
            raise BadRequest("paths must not contain '.' or '..' segments")

        # One pass over the incoming headers: keep what is forwarded, note what the checks need.
        forwarded: list[tuple[str, str]] = []
        authorization: str | None = None
        content_length: bytes | None = None
        chunked = False
        host: str | None = None
        connection: list[bytes] = []
        seen: set[bytes] = set()
        for name, value in scope["headers"]:
            if name in _SINGLE:
                if name in seen:
                    raise BadRequest(f"send one {_SINGLE[name]} header, not several", field=_SINGLE[name])
                seen.add(name)
            if name not in _REQUEST_REPLACED:
                forwarded.append((name.decode("latin-1"), value.decode("latin-1")))
                if name == b"authorization":
                    authorization = forwarded[-1][1]
            elif name == b"content-length":
                content_length = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"host":
                host = value.decode("latin-1")
            elif name == b"connection":
                connection.extend(t.strip().lower() for t in value.split(b","))
        if chunked and content_length is not None:
            # RFC 9112 §6.3: a message with both is how requests are smuggled past a proxy.
            raise BadRequest("send Content-Length or Transfer-Encoding, not both", field="Transfer-Encoding")
        if connection:
            # Headers named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
            dropped = {t.decode("latin-1") for t in connection}
            forwarded = [(k, v) for k, v in forwarded if k not in dropped]

        client = scope.get("client")
        client_ip = client[0] if client else "unknown"
        if scope["method"] == "OPTIONS":
            operations = (await self.operations.current()).match(path)
            if operations is not None:
                # What the path supports is public (the OpenAPI document says it), so no token:
                # the answer is the same for every id, and a CORS preflight carries none.
                await self._take_or_raise("ip:" + client_ip)
                await send(
                    {"type": "http.response.start", "status": 204, "headers": [(b"allow", operations.allow.encode())]}
                )
                await send({"type": "http.response.body", "body": b""})
                return
            # A path the document doesn't know (its service may be down): the service answers.
        if route.auth:
            try:
                principal = await self.verifier.verify(bearer_token(authorization))
            except Unauthorized:
                # A missing or bad token spends the client address's tokens: guessing and the
                # cost of verifying are limited like any unauthenticated request.
                await self._take_or_raise("ip:" + client_ip)
                raise
            scope.setdefault("state", {})[PRINCIPAL_STATE] = principal.sub  # for the access line
            await self._take_or_raise("sub:" + principal.sub)
        else:
            await self._take_or_raise("ip:" + client_ip)

        base = self.upstreams.url(route.service)
        if base is None:
            raise Problem(f"the {route.service} service is not configured on this gateway", status=503)

        body: bytes | _StreamedBody | None
        if route.upload:
            body = _StreamedBody(
                receive, _declared_length(content_length, self.max_upload_bytes), self.max_upload_bytes
            )
            if body.length is not None:
                forwarded.append(("content-length", str(body.length)))  # else aiohttp sends it chunked
        else:
            body = await self._read_body(receive, content_length, chunked)

        request_id = scope.get("state", {}).get("request_id") or incoming_request_id(scope["headers"])
        forwarded.append(("x-request-id", request_id))
        forwarded.append(("x-forwarded-for", client_ip))
        forwarded.append(("x-forwarded-proto", scope.get("scheme", "http")))
        if host:
            forwarded.append(("x-forwarded-host", host))

        # raw_path keeps the client's percent-encoding; encoded=True stops yarl from re-quoting it.
        raw_path: bytes = scope.get("raw_path") or quote(path).encode()
        target = base + raw_path.decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        exchange = self._exchange(
            scope, send, route.service, URL(target, encoded=True), forwarded, body, template, streaming=route.streaming
        )
        if route.streaming:
            await _until_client_goes(receive, exchange)
        else:
            await exchange

    async def _take_or_raise(self, key: str) -> None:
        wait = await self.limiter.take(key)
        if wait is not None:
            if self.metrics is not None:
                self.metrics.rate_limited(key)
            raise Problem(
                "rate limit exceeded; retry after the time in Retry-After",
                status=429,
                headers={"Retry-After": retry_after_header(wait)},
            )

    async def _read_body(self, receive: Receive, content_length: bytes | None, chunked: bool) -> bytes | None:
        """The whole request body (bounded by max_body_bytes), or None when there is none."""
        if content_length is not None:
            declared = _declared_length(content_length, self.max_body_bytes)
            if declared == 0 and not chunked:
                return b""
        elif not chunked:
            return None
        # Counted as it arrives: a chunked body announces no length up front.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message: Message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _too_large(self.max_body_bytes)
            if chunk:
                chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _exchange(
        self,
        scope: Scope,
        send: Send,
        service: str,
        url: URL,
        headers: list[tuple[str, str]],
        body: bytes | _StreamedBody | None,
        template: str,
        *,
        streaming: bool = False,
    ) -> None:
        method: str = scope["method"]
        # The upstream call is a CLIENT span; the service continues its context.
        with self.tracer.start_as_current_span(
            f"{method} {template}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": method, "server.address": url.host or "", "weft.upstream": service},
        ) as span:
            trace_context: dict[str, str] = {}
            inject(trace_context)
            await self._exchange_in_span(
                scope, send, service, url, [*headers, *trace_context.items()], body, span, streaming=streaming
            )

    async def _exchange_in_span(
        self,
        scope: Scope,
        send: Send,
        service: str,
        url: URL,
        headers: list[tuple[str, str]],
        body: bytes | _StreamedBody | None,
        span: trace.Span,
        *,
        streaming: bool = False,
    ) -> None:
        method: str = scope["method"]
        started = False
        sent_at = time.perf_counter()
        try:
            async with await self.upstreams.request(
                method,
                url,
                headers=headers,
                body=body.chunks() if isinstance(body, _StreamedBody) else body,
                streaming=streaming,
            ) as upstream:
                span.set_attribute("http.response.status_code", upstream.status)
                self._upstream_answered(service, str(upstream.status), sent_at)
                headers_out = _response_headers(upstream.raw_headers)
                if upstream.status == 405:
                    headers_out = await self._full_allow(scope["path"], headers_out)
                start: Message = {"type": "http.response.start", "status": upstream.status, "headers": headers_out}
                length = upstream.content_length
                if (
                    method == "HEAD"
                    or upstream.status in (204, 304)
                    or (length is not None and length <= _BUFFERED_RESPONSE_BYTES)
                ):
                    content = await upstream.read()
                    started = True
                    await send(start)
                    await send({"type": "http.response.body", "body": content})
                    return
                started = True
                await send(start)
                # An event stream never ends by itself: it ends when this process stops.
                chunks = upstream.content.iter_any()
                async for chunk in until_stopping(chunks) if streaming else chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
        except TimeoutError as exc:
            if started:
                # Too late for a status: leaving the response unfinished makes uvicorn cut the connection.
                log.warning("%s stalled mid-response on %s", service, url.path)
                return
            self._upstream_answered(service, "timeout", sent_at)
            log.warning("%s timed out on %s %s", service, method, url.path)
            raise Problem(f"the {service} service did not answer in time", status=504) from exc
        except aiohttp.ClientError as exc:
            if isinstance(body, _StreamedBody) and body.failure is not None and not started:
                raise body.failure from None  # the client's upload broke off or grew too large
            if started:
                log.warning("%s broke off mid-response on %s: %s", service, url.path, exc)
                if streaming:
                    # An event stream is a series of self-delimiting events, so ending it is no
                    # lie about a body (a half-sent event is dropped by the client): end it
                    # cleanly, and the client reconnects with its Last-Event-ID.
                    await send({"type": "http.response.body", "body": b""})
                return
            self._upstream_answered(service, "unreachable", sent_at)
            log.warning("%s unreachable on %s %s: %r", service, method, url.path, exc)
            raise Problem(f"the {service} service could not be reached", status=502) from exc

    def _upstream_answered(self, service: str, status: str, sent_at: float) -> None:
        if self.metrics is not None:
            self.metrics.upstream_answered(service, status, time.perf_counter() - sent_at)

    async def _full_allow(self, path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """A service's 405 names the methods of one of its routes; the path may have more."""
        operations = (await self.operations.current()).match(path)
        if operations is None:
            return headers
        return [(k, v) for k, v in headers if k != b"allow"] + [(b"allow", operations.allow.encode())]


def _response_headers(raw: tuple[tuple[bytes, bytes], ...]) -> list[tuple[bytes, bytes]]:
    headers = [(name.lower(), value) for name, value in raw]
    named = [v for k, v in headers if k == b"connection"]
    dropped = _RESPONSE_DROPPED
    if named:
        dropped = dropped | {t.strip().lower() for v in named for t in v.split(b",")}
    return [(k, v) for k, v in headers if k not in dropped]


async def _until_client_goes(receive: Receive, exchange: Coroutine[Any, Any, None]) -> None:
    """Run `exchange` until it ends or the client disconnects. A long-lived stream's writes to a
    client that has gone are silently dropped, so without this the gateway would hold the
    upstream connection open for as long as the service kept sending heartbeats."""

    async def client_gone(scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(client_gone, tasks.cancel_scope)
        await exchange
        tasks.cancel_scope.cancel()


class _StreamedBody:
    """An upload's body, handed to the service as it arrives: the gateway never holds it
    whole. Counted on the way, so a chunked body that grows past the limit is cut off."""

    def __init__(self, receive: Receive, length: int | None, limit: int) -> None:
        self.receive = receive
        self.length = length
        self.limit = limit
        self.failure: Exception | None = None  # why the stream stopped early, for the answer

    async def chunks(self) -> AsyncIterator[bytes]:
        size = 0
        more = True
        while more:
            message: Message = await self.receive()
            if message["type"] == "http.disconnect":
                self.failure = _ClientGone()
                raise self.failure
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                self.failure = _too_large(self.limit)
                raise self.failure
            if chunk:
                yield chunk
            more = message.get("more_body", False)


def _declared_length(content_length: bytes | None, limit: int) -> int | None:
    if content_length is None:
        return None
    try:
        declared = int(content_length)
    except ValueError:
        raise BadRequest("invalid Content-Length") from None
    if declared < 0:
        raise BadRequest("invalid Content-Length")
    if declared > limit:
        raise _too_large(limit)
    return declared


def _too_large(limit: int) -> Problem:
    return Problem(f"the request body is larger than {limit} bytes", status=413)
