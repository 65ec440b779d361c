"""Deadlines for a request still arriving, so a slow client cannot hold a connection forever.

uvicorn waits without limit for a request's headers to end and for a body's next bytes
(slowloris: headers without the final blank line, or `Content-Length: 100` and 8 bytes).
It has no setting for that, so this subclasses its httptools protocol (the one `serve`
uses) and adds two timers:

- the headers of a request must be complete within `header_seconds` of the connection
  opening, or of the first byte of the next request on a kept-alive connection;
- while a body is arriving, each part must follow the previous one (or the headers)
  within `body_seconds`.

Past a deadline the client gets a 408 problem+json, when no answer has begun, and the
connection is closed. A body that waits because the app has not read it yet (uvicorn
stops reading from the socket then) is not the client's fault, so its timer starts again.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

Waiting = Literal["headers", "body"]


def protocol_with_deadlines(*, header_seconds: float, body_seconds: float) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with these deadlines (for `uvicorn.run(http=...)`)."""
    return type(
        "HttpToolsProtocolWithDeadlines",
        (DeadlineProtocol,),
        {"header_seconds": header_seconds, "body_seconds": body_seconds},
    )


class DeadlineProtocol(HttpToolsProtocol):
    header_seconds: float = 10.0
    body_seconds: float = 30.0
    _timer: asyncio.TimerHandle | None = None
    _waiting: Waiting | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._waiting is None:  # the next request on a kept-alive connection
            self._wait_for("headers")

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # A request without a body completes right after this, in the same parser call.
        self._wait_for("body")

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._wait_for("body")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._stop_waiting()

    def _wait_for(self, what: Waiting) -> None:
        self._stop_waiting()
        self._waiting = what
        seconds = self.header_seconds if what == "headers" else self.body_seconds
        self._timer = self.loop.call_later(seconds, self._deadline_passed)

    def _stop_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._waiting = None

    def _deadline_passed(self) -> None:
        what = self._waiting
        self._timer = None
        if what is None or self.transport.is_closing():
            return
        if what == "body" and self.flow.read_paused:
            self._wait_for("body")  # the app is behind, not the client
            return
        cycle = self.cycle
        if what == "headers":
            # An earlier request's answer may still be on its way (pipelining): don't cut into it.
            may_answer = cycle is None or cycle.response_complete
        else:
            assert cycle is not None  # the headers made one
            may_answer = not cycle.response_started
            # The app waits for this body: it now reads a disconnect, and what it still
            # sends is dropped rather than written after our answer.
            cycle.disconnected = True
            cycle.message_event.set()
        if may_answer:
            seconds = self.header_seconds if what == "headers" else self.body_seconds
            self.transport.write(_timeout_answer(what, seconds))
        self.transport.close()


def _timeout_answer(what: Waiting, seconds: float) -> bytes:
    detail = (
        f"the request's headers did not arrive within {seconds:g} s"
        if what == "headers"
        else f"the request's body stopped arriving for {seconds:g} s"
    )
    body = orjson.dumps({"type": "about:blank", "title": "Request Timeout", "status": 408, "detail": detail})
    head = (
        b"HTTP/1.1 408 Request Timeout\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n"
    )
    return head + body
