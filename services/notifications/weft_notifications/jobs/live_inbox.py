"""The live stream's side of a process: who is connected, and waking them when their
inbox changes.

One watcher per process (not per connection) follows `inbox_counters`, which every
replica writes in the transaction that gives or reads an item; each event wakes the
connections of that one person. A wake-up is a flag, not a queue: a connection that is
behind sees one wake-up for any number of changes and reads what is new by `seq` from
the database, so a connection holds no more than one page whatever arrives, and
nothing is lost when wake-ups are merged or the watcher restarts (it then wakes
everyone). Without change streams (or while the server has none to give), one query
per process reads the counters of everyone connected, every `stream_poll_seconds`.

`closing` is set when the process is told to stop (SIGTERM/SIGINT, before uvicorn
waits for open responses) so streams end at once instead of holding shutdown open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

from weft_notifications.storage.live import CounterChanges

log = logging.getLogger("weft.notifications.live")
_RETRY_CHANGE_STREAM_SECONDS = 30.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Listener:
    """One open stream: set when its person's inbox may have changed."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.woken = asyncio.Event()


class LiveInbox:
    def __init__(self, changes: CounterChanges, *, watch_changes: bool = True, poll_seconds: float) -> None:
        self._changes = changes
        self._watch_changes = watch_changes
        self._poll_seconds = poll_seconds
        self._listeners: dict[str, set[Listener]] = {}
        self.closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._previous_handlers: dict[int, Any] = {}

    # -- connections ------------------------------------------------------------

    @contextlib.contextmanager
    def listen(self, user_id: str) -> Iterator[Listener]:
        """Register before reading, so a change committed meanwhile still wakes the listener."""
        listener = Listener(user_id)
        self._listeners.setdefault(user_id, set()).add(listener)
        try:
            yield listener
        finally:
            mine = self._listeners.get(user_id)
            if mine is not None:
                mine.discard(listener)
                if not mine:
                    del self._listeners[user_id]

    def connections(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    def _wake(self, user_id: str) -> None:
        for listener in self._listeners.get(user_id, ()):
            listener.woken.set()

    def _wake_everyone(self) -> None:
        for user_id in list(self._listeners):
            self._wake(user_id)

    # -- the job ----------------------------------------------------------------

    def start(self) -> None:
        self.closing.clear()
        self._chain_stop_signals()
        self._task = asyncio.create_task(self._follow(), name="live inbox watcher")

    async def stop(self) -> None:
        self.closing.set()
        self._restore_stop_signals()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _follow(self) -> None:
        if not self._watch_changes:
            await self._poll_for(None)
        while True:
            try:
                # Opened: anything committed before it is found by reading, so wake everyone.
                async for user_id in self._changes.changed_people(on_open=self._wake_everyone):
                    self._wake(user_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("inbox change stream unavailable (%s); polling counters meanwhile", exc)
            await self._poll_for(_RETRY_CHANGE_STREAM_SECONDS)

    async def _poll_for(self, seconds: float | None) -> None:
        """Wake the listeners whose counters moved, every `poll_seconds`, for `seconds` (None: ever)."""
        # Whatever changed before the first read is found by the streams' own reads.
        self._wake_everyone()
        seen: dict[str, tuple[int, int]] = {}
        watched: set[str] = set()
        loop = asyncio.get_running_loop()
        until = None if seconds is None else loop.time() + seconds
        while until is None or loop.time() < until:
            await asyncio.sleep(self._poll_seconds)
            listening = list(self._listeners)
            try:
                now = await self._changes.positions(listening)
            except Exception as exc:
                log.warning("reading inbox counters failed, will retry: %s", exc)
                continue
            for user_id in listening:
                # A listener new since the last read may have missed a change in between.
                if user_id not in watched or seen.get(user_id) != now.get(user_id):
                    self._wake(user_id)
            seen, watched = now, set(listening)

    # -- shutdown ---------------------------------------------------------------

    def _chain_stop_signals(self) -> None:
        """uvicorn waits for open responses before the lifespan ends, so a stream must
        hear of the signal itself; uvicorn's own handler still runs, and restores the
        process's handlers once it has served."""
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue  # not under uvicorn's signal handling (in-process test servers)

            def on_stop_signal(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
                loop.call_soon_threadsafe(self.closing.set)
                previous(signum, frame)

            try:
                signal.signal(sig, on_stop_signal)
            except ValueError:  # not the main thread
                return
            self._previous_handlers[sig] = previous

    def _restore_stop_signals(self) -> None:
        for sig, previous in self._previous_handlers.items():
            with contextlib.suppress(ValueError):
                signal.signal(sig, previous)
        self._previous_handlers.clear()
