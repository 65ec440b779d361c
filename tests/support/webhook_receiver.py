"""A real HTTP endpoint for webhook tests, on 127.0.0.1 in the test's event loop.

Each path says how it answers: `/ok/<name>` 200; `/status/<code>/<name>` that
status; `/flaky/<n>/<name>` 500 for the first n requests, then 200; `/hang/<name>`
holds the request open until `release_hanging()`; `/redirect/<name>` 302 to
`/ok/<name>-redirected`. Every request is kept (headers, raw body) per name.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    host: str = "127.0.0.1"
    port: int = 0
    received: dict[str, list[Received]] = field(default_factory=lambda: defaultdict(list))
    hanging: set[str] = field(default_factory=set)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    def url(self, path: str, *, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def of(self, name: str) -> list[Received]:
        return self.received.get(name, [])

    async def arrived(self, name: str, count: int = 1) -> list[Received]:
        """For `eventually`: what `name` received, once it is at least `count` requests."""
        got = self.of(name)
        return list(got) if len(got) >= count else []

    def release_hanging(self) -> None:
        self._release.set()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/ok/{name}", self._ok)
        app.router.add_post("/status/{code}/{name}", self._status)
        app.router.add_post("/flaky/{n}/{name}", self._flaky)
        app.router.add_post("/hang/{name}", self._hang)
        app.router.add_post("/redirect/{name}", self._redirect)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _keep(self, request: web.Request) -> str:
        name = request.match_info["name"]
        body = await request.read()
        self.received[name].append(Received(request.path, {k.lower(): v for k, v in request.headers.items()}, body))
        return name

    async def _ok(self, request: web.Request) -> web.Response:
        await self._keep(request)
        return web.Response(text="thanks")

    async def _status(self, request: web.Request) -> web.Response:
        await self._keep(request)
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def _flaky(self, request: web.Request) -> web.Response:
        name = await self._keep(request)
        failing = int(request.match_info["n"])
        return web.Response(status=500 if len(self.of(name)) <= failing else 200, text="flaky")

    async def _hang(self, request: web.Request) -> web.Response:
        name = await self._keep(request)
        self.hanging.add(name)
        try:
            await self._release.wait()
        finally:
            self.hanging.discard(name)
        return web.Response(text="late")

    async def _redirect(self, request: web.Request) -> web.Response:
        name = await self._keep(request)
        raise web.HTTPFound(f"/ok/{name}-redirected")
