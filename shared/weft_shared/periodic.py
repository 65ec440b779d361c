"""A background job that runs every few seconds for the life of a process
(outbox sweeps, reminder polls, expiry sweeps)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("weft.periodic")


class Periodic:
    """Runs `work` every `interval` seconds until stopped. `work` returns how much
    it did; a failure (database or NATS away) is logged and the next tick retries."""

    def __init__(self, name: str, work: Callable[[], Awaitable[int]], interval: float, *, report: str) -> None:
        self.name = name
        self._work = work
        self._interval = interval
        self._report = report  # e.g. "published %d leftover message(s)"
        self._task: asyncio.Task[None] | None = None

    async def _run_forever(self) -> None:
        while True:
            try:
                done = await self._work()
                if done:
                    log.info("%s: " + self._report, self.name, done)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s failed, will retry: %s", self.name, exc)
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
