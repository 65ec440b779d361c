"""OPTIONS and 405 that name every method of a path, for a service reached directly.

Starlette's router stops at the first route whose path matches: when GET and PATCH of one path
are two routes (two functions), a PUT gets 405 with `Allow: GET` only, and OPTIONS gets 405 too.
This middleware answers from the service's own OpenAPI document, which lists every operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weft_shared.service.path_templates import PathTemplates


class AllowedMethods:
    def __init__(self, app: ASGIApp, document: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self._document = document
        self._templates: PathTemplates | None = None

    def templates(self) -> PathTemplates:
        # Built on first use: every route is registered by then, and FastAPI caches the document.
        if self._templates is None:
            self._templates = PathTemplates.from_document(self._document())
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] == "OPTIONS":
            operations = self.templates().match(path)
            if operations is not None and "OPTIONS" not in operations.methods:
                allow = operations.allow.encode()
                await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_full_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                operations = self.templates().match(path)
                if operations is not None:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                    message = {**message, "headers": [*headers, (b"allow", operations.allow.encode())]}
            await send(message)

        await self.app(scope, receive, send_full_allow)
