"""A client that sends a request too slowly (slowloris) is answered 408 and disconnected.

Run against `weft gateway` as an operator runs it, with the deadlines set to 1 s; the
bounds asserted are generous (the point is that the connection closes, not when).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from tests.gateway.servers import echo_upstream, token
from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess, clean_base_env

# Far above the 1 s deadlines: only a connection that is never closed fails.
CLOSED_WITHIN = 30.0


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises if it does not in time)."""
    sock.settimeout(CLOSED_WITHIN)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.fixture(scope="module")
def gateway_with_deadlines() -> Iterator[ServiceProcess]:
    env = {
        **clean_base_env(),
        "WEFT_ENV": "dev",
        "WEFT_HTTP_HEADER_TIMEOUT_SECONDS": "1",
        "WEFT_HTTP_BODY_TIMEOUT_SECONDS": "1",
    }
    gateway = ServiceProcess("gateway", env, free_port())
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def _one_response(sock: socket.socket) -> bytes:
    """One whole response (head and a Content-Length body): it may arrive in several packets."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def _connect(gateway: ServiceProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", gateway.port), timeout=CLOSED_WITHIN)


def test_headers_without_their_end_get_408_and_a_close(gateway_with_deadlines: ServiceProcess) -> None:
    with _connect(gateway_with_deadlines) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")  # no blank line
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"application/problem+json" in answer and b"headers did not arrive" in answer


def test_a_connection_that_sends_nothing_is_closed(gateway_with_deadlines: ServiceProcess) -> None:
    with _connect(gateway_with_deadlines) as sock:
        assert _until_closed(sock).startswith(b"HTTP/1.1 408 ")


def test_the_next_request_on_a_kept_alive_connection_has_the_same_deadline(
    gateway_with_deadlines: ServiceProcess,
) -> None:
    with _connect(gateway_with_deadlines) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = _one_response(sock)
        assert first.startswith(b"HTTP/1.1 200 "), first
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the next one stalls
        assert _until_closed(sock).startswith(b"HTTP/1.1 408 ")


async def test_a_body_shorter_than_its_content_length_gets_408_and_a_close() -> None:
    """Through the proxy (which waits for the whole body before forwarding it)."""
    async with echo_upstream("membership") as membership:
        env = {
            **clean_base_env(),
            "WEFT_ENV": "dev",
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership.url,
            "WEFT_HTTP_BODY_TIMEOUT_SECONDS": "1",
        }
        gateway = ServiceProcess("gateway", env, free_port())
        await asyncio.to_thread(gateway.start)  # from a thread: this loop runs the echo service
        try:

            def stalled_post() -> bytes:
                with _connect(gateway) as sock:
                    sock.sendall(
                        b"POST /v1/communities HTTP/1.1\r\nHost: x\r\n"
                        b"Authorization: Bearer " + token("slow").encode() + b"\r\n"
                        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                        b'{"name":'  # 8 of the 100 bytes
                    )
                    return _until_closed(sock)

            answer = await asyncio.to_thread(stalled_post)
        finally:
            await asyncio.to_thread(gateway.stop)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"body stopped arriving" in answer
    assert membership.requests_to("/v1/communities") == []  # nothing half-sent upstream
