"""The process's shutdown state, shared by the server (which sets it on SIGTERM) and the
app (whose `/readyz` and long-lived streams read it).

Two steps: *draining* — `/readyz` answers 503 so a load balancer stops sending, while
every request is still served — then *stopping* — new connections are refused, and
streams that would otherwise never end (server-sent events) end now, so the process
does not wait for them until its hard deadline. One process serves one app, so the
state is process-wide.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessShutdown:
    def __init__(self) -> None:
        self.draining = False
        self._stopping: asyncio.Event | None = None

    @property
    def stopping(self) -> asyncio.Event:
        if self._stopping is None:
            self._stopping = asyncio.Event()
        return self._stopping

    def begin_draining(self) -> None:
        self.draining = True

    def begin_stopping(self) -> None:
        """Call from the event loop's thread."""
        self.draining = True
        self.stopping.set()


shutdown = ProcessShutdown()


async def until_stopping(items: AsyncIterator[T]) -> AsyncIterator[T]:
    """`items`, ended early when the process starts stopping (for relays of endless streams)."""
    stopping = asyncio.create_task(shutdown.stopping.wait())
    following: asyncio.Future[T] | None = None
    try:
        while not stopping.done():
            following = asyncio.ensure_future(anext(items))
            await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await following
                return
            try:
                item = following.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        stopping.cancel()
        if following is not None and not following.done():
            # The relay was abandoned (its client left) while a read was pending: end the read and
            # take its outcome, so a connection closing under it is not reported as lost.
            following.cancel()
            following.add_done_callback(_take_outcome)


def _take_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
