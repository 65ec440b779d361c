"""An ASGI response for Server-Sent Events that ends when the client goes or lags.

Starlette's StreamingResponse waits for as long as a client takes to accept each
write; here a write that does not complete within `send_timeout` ends the response
(the connection is closed), so a client that stops reading costs one frame of memory,
not a growing buffer. A disconnect stops the frames at once, which frees the listener.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger("weft.notifications.stream")

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    # nginx and similar proxies buffer responses unless told not to.
    (b"x-accel-buffering", b"no"),
]


class EventStreamResponse(Response):
    media_type = "text/event-stream"

    def __init__(self, frames: AsyncIterator[bytes], *, send_timeout: float) -> None:
        # A Response, so FastAPI hands it to the server as it is; the body is `frames`.
        super().__init__(status_code=200, media_type=self.media_type)
        self.frames = frames
        self.send_timeout = send_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        completed = True  # stays so when the client disconnects (the scope cancels `_stream`)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._until_disconnect, receive, tasks.cancel_scope)
            completed = await self._stream(send)
            tasks.cancel_scope.cancel()
        if not completed:
            log.info("stream client too slow (a write waited %.0f s): disconnected", self.send_timeout)

    async def _stream(self, send: Send) -> bool:
        """False when the client stopped accepting writes (the response is left unfinished,
        which makes the server close the connection)."""
        aclose = getattr(self.frames, "aclose", None)
        try:
            with anyio.fail_after(self.send_timeout):
                await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            async for frame in self.frames:
                with anyio.fail_after(self.send_timeout):
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
            with anyio.fail_after(self.send_timeout):
                await send({"type": "http.response.body", "body": b""})
        except TimeoutError:
            return False
        finally:
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        return True

    @staticmethod
    async def _until_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        scope.cancel()
