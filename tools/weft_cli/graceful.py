"""A uvicorn server that shuts down the way a load-balanced process should.

On the first SIGTERM (or SIGINT): `/readyz` turns 503 at once, and the process keeps
serving — new connections included — for `drain_seconds`, the time a load balancer or
Kubernetes takes to stop sending. Then it stops accepting, ends its endless streams,
lets in-flight requests finish (up to `grace_seconds`), and runs the app's lifespan
shutdown (consumers finish the messages in hand, the outbox relay flushes, NATS and
MongoDB close). It exits 0. If all that is not over `deadline_seconds` after the
signal, it logs what was still running and exits 1 anyway. A second signal skips what
is left of the drain.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Generator
from types import FrameType

import uvicorn
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from weft_shared.service.shutdown import shutdown

log = logging.getLogger("weft.shutdown")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FORCED_EXIT_CODE = 1


class ShutdownSettings(BaseSettings):
    """How a process stops (every service, the gateway and the web app)."""

    model_config = SettingsConfigDict(env_prefix="WEFT_SHUTDOWN_", extra="ignore")

    # Readiness false, still serving: how long endpoints take to forget this process.
    # Default 5 s; 0.2 s when WEFT_ENV=dev (the dev runner and the tests stop processes often).
    drain_seconds: float | None = Field(None, ge=0)
    # How long in-flight requests get once new connections are refused.
    grace_seconds: float = Field(10.0, gt=0)
    # From the signal to the exit, whatever is still running.
    deadline_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _dev_drains_briefly(self) -> ShutdownSettings:
        if self.drain_seconds is None:
            self.drain_seconds = 0.2 if os.environ.get("WEFT_ENV") == "dev" else 5.0
        return self

    @property
    def drain(self) -> float:
        return float(self.drain_seconds or 0.0)


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, settings: ShutdownSettings) -> None:
        super().__init__(config)
        self._settings = settings
        self._signalled_at: float | None = None
        self._skip_drain = False
        self._in_flight_at_stop = 0

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._signalled_at is not None:
            self._skip_drain = True
            return
        self._signalled_at = time.monotonic()
        shutdown.begin_draining()
        log.info(
            "%s received: /readyz answers 503; still serving for %.1f s (drain), then stopping",
            signal.Signals(sig).name,
            self._settings.drain,
        )
        deadline = threading.Timer(self._settings.deadline_seconds, self._deadline_passed)
        deadline.daemon = True
        deadline.start()

    async def on_tick(self, counter: int) -> bool:
        if self._signalled_at is not None and not self.should_exit:
            drained = time.monotonic() - self._signalled_at >= self._settings.drain
            if drained or self._skip_drain:
                self._in_flight_at_stop = len(self.server_state.tasks)
                log.info(
                    "drain over: refusing new connections; finishing %d in-flight request(s), %d open connection(s)",
                    self._in_flight_at_stop,
                    len(self.server_state.connections),
                )
                shutdown.begin_stopping()
                self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        await super().shutdown(sockets=sockets)  # type: ignore[arg-type]
        cancelled = len(self.server_state.tasks)
        started = self._signalled_at or time.monotonic()
        log.info(
            "shutdown complete in %.1f s: %d in-flight request(s) drained, %d cut off; exiting 0",
            time.monotonic() - started,
            max(0, self._in_flight_at_stop - cancelled),
            cancelled,
        )

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn's own re-raises the signal after a clean shutdown, so the process would die
        # *by* SIGTERM (exit -15); a process that finished its work exits 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    def _deadline_passed(self) -> None:
        log.critical(
            "shutdown deadline (%.0f s after the signal) passed with %d request(s) and %d connection(s) "
            "still open; exiting %d anyway",
            self._settings.deadline_seconds,
            len(self.server_state.tasks),
            len(self.server_state.connections),
            FORCED_EXIT_CODE,
        )
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        os._exit(FORCED_EXIT_CODE)
