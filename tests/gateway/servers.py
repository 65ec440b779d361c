"""Real servers for gateway tests: the gateway under uvicorn, and upstreams that are real
network endpoints (an HTTP echo app, a port nobody listens on, a server that never answers,
one that resets every connection). Nothing here needs NATS or a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import struct
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.types import Receive, Scope, Send

from weft_gateway.app import create_app
from weft_gateway.settings import GatewaySettings
from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings

DEV = PlatformSettings(env="dev")


def token(sub: str = "alice", ttl_seconds: int = 3600) -> str:
    return issue_dev_token(DEV, sub, ttl_seconds=ttl_seconds)


def _bound_socket(port: int = 0) -> socket.socket:
    # Bound before the server starts and handed to it, so no other process can take the port meanwhile.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class _Server(uvicorn.Server):
    # In-process servers must leave the test runner's signal handlers alone.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serve(app: Any, port: int = 0) -> AsyncIterator[str]:
    """Run an ASGI app under uvicorn on this event loop (on `port`, or a free one); yields its base URL."""
    sock = _bound_socket(port)
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, lifespan="on", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # surfaces the startup error, if it raised
                raise RuntimeError(f"{app!r} did not start")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass
class EchoUpstream:
    """A stand-in service: answers every request with what it received, and records it.

    - `/healthz` answers 200 (503 once `healthy` is False).
    - `/openapi.json` serves `openapi` (404 when None).
    - `?status=N` answers with status N; `?crash=1` answers 500 and then fails (uvicorn then drops
      the connection); `?stream=N` streams N chunks with no Content-Length;
      `?size=N` answers N bytes; `?gzip=1` a gzip-encoded echo; `?stall=S` stops for S seconds mid-body
      (`&sized=1`: with a Content-Length).
    """

    name: str
    openapi: dict[str, Any] | None = None
    healthy: bool = True
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def requests_to(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"].startswith(prefix)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path: str = scope["path"]
        if path == "/healthz":
            await _respond(send, 200 if self.healthy else 503, b'{"status":"ok"}')
            return
        if path == "/openapi.json":
            if self.openapi is None:
                await _respond(send, 404, b"{}")
            else:
                await _respond(send, 200, orjson.dumps(self.openapi))
            return
        query = dict(pair.split("=", 1) for pair in scope["query_string"].decode().split("&") if "=" in pair)
        record = {
            "service": self.name,
            "method": scope["method"],
            "path": path,
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        }
        self.received.append(record)
        extra = [
            (b"x-upstream", self.name.encode()),
            (b"set-cookie", b"session=abc; Path=/"),
            # Named in Connection, so hop-by-hop: the gateway must not pass it on.
            (b"connection", b"x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
        ]
        if "size" in query:  # a large, sized body: the gateway streams it rather than buffering
            await _respond(send, 200, b"x" * int(query["size"]), extra)
            return
        if "gzip" in query:  # compressed by the service: must pass through still compressed
            await _respond(send, 200, gzip.compress(orjson.dumps(record)), [(b"content-encoding", b"gzip")])
            return
        if "stall" in query:  # starts answering, then stops longer than the gateway waits
            sized = [(b"content-length", b"100")] if "sized" in query else []
            await send({"type": "http.response.start", "status": 200, "headers": sized})
            await send({"type": "http.response.body", "body": b"partial", "more_body": True})
            await asyncio.sleep(float(query["stall"]))
            await send({"type": "http.response.body", "body": b"x" * 93})
            return
        if "crash" in query:  # what Starlette does on an unhandled error: answer 500, then raise,
            # after which uvicorn drops the connection (the response said nothing of it)
            await _respond(send, 500, b'{"detail":"internal error"}')
            raise RuntimeError("the service failed after answering (a test upstream)")
        if "stream" in query:
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/plain"), *extra],
                }
            )
            for i in range(int(query["stream"])):
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"chunk {i}\n".encode(),
                        "more_body": True,
                    }
                )
            await send({"type": "http.response.body", "body": b""})
            return
        status = int(query.get("status", 200))
        if status == 405:  # as Starlette answers: the methods of the first route that matched the path
            extra.append((b"allow", b"GET"))
        await _respond(send, status, orjson.dumps(record), extra)


async def _respond(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": headers + (extra or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def echo_upstream(name: str, port: int = 0, **kwargs: Any) -> AsyncIterator[EchoUpstream]:
    upstream = EchoUpstream(name, **kwargs)
    async with serve(upstream, port) as url:
        upstream.url = url
        yield upstream


@asynccontextmanager
async def silent_upstream() -> AsyncIterator[str]:
    """Accepts connections and reads requests, but never answers (a hung service)."""
    writers: list[asyncio.StreamWriter] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while await reader.read(65536):
            pass

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@asynccontextmanager
async def resetting_upstream() -> AsyncIterator[str]:
    """Accepts each connection and resets it at once (RST, not FIN)."""

    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class DroppingUpstream:
    """A raw HTTP/1.1 service whose keep-alive connections die under the gateway's pool.

    Every request is answered 200 (with its method and path), except a path ending in `/fail`,
    answered 500. With `drop="after-500"`, a connection that answered 500 is closed as soon as the
    next request arrives on it, unanswered: uvicorn's race after an unhandled error, made certain.
    With `drop="reused"`, every connection answers its first request and closes, unanswered, on the
    second: a pooled connection the service closed while it sat idle. `received` lists
    "METHOD path" for every request read, answered or not.
    """

    drop: str
    url: str = ""
    received: list[str] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = 0
        poisoned = False
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                fields = (line.partition(":") for line in lines[1:])
                length = next((int(value) for name, _, value in fields if name.lower() == "content-length"), 0)
                await reader.readexactly(length)
                self.received.append(f"{method} {path}")
                if path == "/openapi.json":  # the gateway's document fetch: no document, and no pooling
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    await writer.drain()
                    return
                if poisoned or (self.drop == "reused" and answered):
                    return  # closed with the request unanswered
                status = 500 if path.endswith("/fail") else 200
                body = orjson.dumps({"method": method, "path": path, "status": status})
                reason = b"Internal Server Error" if status == 500 else b"OK"
                writer.write(
                    b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
                    % (status, reason, len(body), b"" if method == "HEAD" else body)
                )
                await writer.drain()
                answered += 1
                poisoned = self.drop == "after-500" and status == 500
        finally:
            writer.close()


@asynccontextmanager
async def dropping_upstream(drop: str) -> AsyncIterator[DroppingUpstream]:
    upstream = DroppingUpstream(drop)
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield upstream
    finally:
        server.close()
        await server.wait_closed()


def refused_url() -> str:
    """A port that was free a moment ago and that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def gateway_settings(**overrides: Any) -> GatewaySettings:
    """Explicit settings, so nothing a developer exported in WEFT_GATEWAY_* changes a test."""
    values: dict[str, Any] = {
        "platform": DEV,
        "membership_url": None,
        "events_url": None,
        "notifications_url": None,
        "resources_url": None,
        "upstream_timeout_seconds": 10.0,
        "max_body_bytes": 1024 * 1024,
        "rate_limit_per_minute": 60_000,
        "rate_limit_burst": 10_000,
        "openapi_cache_seconds": 30.0,
        "asyncapi_path": None,
    }
    values.update(overrides)
    return GatewaySettings(**values)


GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def start_gateway(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(gateway_settings(**overrides))) as url:
        # A jar that stores nothing, so tests see exactly the cookies they send.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=()))
        async with httpx.AsyncClient(base_url=url, timeout=30, cookies=jar) as client:
            yield client
