"""Server-sent events through the gateway: forwarded chunk by chunk, no upstream read
timeout on the stream route (every other route keeps it), the token still required, never
retried once bytes went out, and the upstream connection closed when the client goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.types import Receive, Scope, Send

from tests.gateway.servers import serve, start_gateway
from tests.support.api import problem

DROP = b"(drop the connection)"
# A bound on failure, not a measured figure.
WITHIN = 10.0


class StreamingUpstream:
    """A stand-in notifications service: `/v1/me/stream` sends what the test queues (None
    ends the response, DROP breaks the connection); `/v1/me/notifications` answers after a
    second; anything else is a 404."""

    def __init__(self) -> None:
        self.url = ""
        self.stream_requests = 0
        self.frames: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.client_gone = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/v1/me/notifications":
            await asyncio.sleep(1.0)  # longer than the gateway's upstream timeout in these tests
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        if scope["path"] != "/v1/me/stream":  # /healthz, /openapi.json
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        self.stream_requests += 1
        watcher = asyncio.create_task(self._watch(receive))
        try:
            headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            while (frame := await self.frames.get()) is not None:
                if frame == DROP:
                    raise RuntimeError("the service broke off mid-stream (a test upstream)")
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            watcher.cancel()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.client_gone.set()


@asynccontextmanager
async def gateway_with_stream() -> AsyncIterator[tuple[StreamingUpstream, httpx.AsyncClient]]:
    upstream = StreamingUpstream()
    async with serve(upstream) as url:
        upstream.url = url
        async with start_gateway(notifications_url=url, upstream_timeout_seconds=0.3) as gateway:
            yield upstream, gateway


async def next_line(lines: AsyncIterator[str]) -> str:
    async with asyncio.timeout(WITHIN):
        return await anext(lines)


async def rest_of(lines: AsyncIterator[str]) -> list[str]:
    async with asyncio.timeout(WITHIN):
        return [line async for line in lines]


async def test_events_pass_one_by_one_with_no_read_timeout(alice: dict[str, str]) -> None:
    async with gateway_with_stream() as (upstream, gateway):
        async with gateway.stream("GET", "/v1/me/stream", headers=alice) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache"
            lines = response.aiter_lines()
            upstream.frames.put_nowait(b"id: 1\nevent: notification\ndata: {}\n\n")
            # The service has not finished (nor sent more): the gateway forwarded this event alone.
            assert [await next_line(lines) for _ in range(4)] == ["id: 1", "event: notification", "data: {}", ""]

            await asyncio.sleep(1.0)  # quiet for longer than the upstream timeout (0.3 s)
            upstream.frames.put_nowait(b": keep-alive\n\n")
            assert [await next_line(lines) for _ in range(2)] == [": keep-alive", ""]
            upstream.frames.put_nowait(None)
            assert await rest_of(lines) == []  # ended cleanly
        # Every other route keeps its timeout.
        assert (
            "did not answer in time" in problem(await gateway.get("/v1/me/notifications", headers=alice), 504)["detail"]
        )


async def test_the_stream_needs_a_token(alice: dict[str, str]) -> None:
    async with gateway_with_stream() as (upstream, gateway):
        problem(await gateway.get("/v1/me/stream"), 401)
        problem(await gateway.get("/v1/me/stream", headers={"Authorization": "Bearer nonsense"}), 401)
        assert upstream.stream_requests == 0


async def test_a_stream_broken_off_is_not_sent_again(alice: dict[str, str]) -> None:
    async with gateway_with_stream() as (upstream, gateway):
        async with gateway.stream("GET", "/v1/me/stream", headers=alice) as response:
            lines = response.aiter_lines()
            upstream.frames.put_nowait(b"id: 1\ndata: one\n\n")
            assert [await next_line(lines) for _ in range(3)] == ["id: 1", "data: one", ""]
            upstream.frames.put_nowait(DROP)
            # The stream ends (cleanly: an event stream's events delimit themselves) and the client
            # reconnects with Last-Event-ID: 1; nothing is replayed by the gateway.
            assert await rest_of(lines) == []
        assert upstream.stream_requests == 1


async def test_a_client_that_goes_closes_the_upstream_stream(alice: dict[str, str]) -> None:
    async with gateway_with_stream() as (upstream, gateway):
        async with gateway.stream("GET", "/v1/me/stream", headers=alice) as response:
            lines = response.aiter_lines()
            upstream.frames.put_nowait(b"id: 1\ndata: one\n\n")
            assert await next_line(lines) == "id: 1"
        # The client closed its connection; nothing more was sent upstream's way, yet it hears of it.
        async with asyncio.timeout(WITHIN):
            await upstream.client_gone.wait()
        upstream.frames.put_nowait(None)
