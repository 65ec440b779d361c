"""A SERVER span per HTTP request, continuing the caller's W3C trace context.

Named `<METHOD> <route template>` once routing has matched (never the path: paths can
carry secrets, such as invitation and calendar-feed tokens). Probes are not traced:
they would be most of the traces and say nothing.

Plain ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weft_shared.tracing import extract

UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ServerSpans:
    def __init__(self, app: ASGIApp, tracer: Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        carrier = {}
        for name, value in scope["headers"]:
            if name in (b"traceparent", b"tracestate"):
                carrier[name.decode()] = value.decode("latin-1")
        method: str = scope["method"]
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with self.tracer.start_as_current_span(
            method, context=extract(carrier), kind=SpanKind.SERVER, attributes={"http.request.method": method}
        ) as span:
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                # The router left the matched route in the scope (Starlette updates it in place).
                template = getattr(scope.get("route"), "path", None)
                if template:
                    span.update_name(f"{method} {template}")
                    span.set_attribute("http.route", template)
                if status:
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
