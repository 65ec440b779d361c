"""Keep the dev stack's children running: restart one that dies, with back-off, and say so.

A child that keeps failing waits 1 s, 2 s, 4 s ... (at most `MAX_BACKOFF`) between
tries; once it has stayed up for `STABLE_AFTER` seconds its back-off starts again
from 1 s. Nothing here stops the stack: only a signal (Ctrl-C, SIGTERM) does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from weft_cli.procs import ManagedProcess, ProcessDied, describe_duration, describe_exit

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0
POLL_SECONDS = 0.25
# A crash report shows what the child printed this long before it died: older lines
# (a traceback from an hour ago) would read as the cause of death.
RECENT_OUTPUT_SECONDS = 60.0

Say = Callable[[str], None]


def backoff(failures: int) -> float:
    """Seconds to wait before the restart that follows `failures` failures in a row (1 or more)."""
    return float(min(FIRST_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF))


def crash_report(name: str, process: ManagedProcess, *, died_at: float) -> str:
    """Its last lines from the minute before it died, each with the time it was printed."""
    lines = process.recent(RECENT_OUTPUT_SECONDS, until=died_at)
    window = f"{RECENT_OUTPUT_SECONDS:.0f} s before it died at {_clock(died_at)}"
    if not lines:
        return f"--- {name} printed nothing in the {window} ---"
    shown = "\n".join(f"{_clock(at)} {line}" for at, line in lines)
    return f"--- last output of {name}, from the {window} ---\n{shown}\n--- end of the output of {name} ---"


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


class Child:
    """One supervised server: how to start it (returning once it is ready) and its current process."""

    def __init__(self, name: str, start: Callable[[], ManagedProcess]) -> None:
        self.name = name
        self._start = start
        self.process: ManagedProcess | None = None
        self.started_at = 0.0
        self.failures = 0  # in a row, without a stable run between them
        self.restart_at: float | None = None

    def start(self) -> ManagedProcess:
        self.process = self._start()
        self.started_at = time.monotonic()
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        say: Say,
        shout: Say,
        on_started: Callable[[Child], None] = lambda _child: None,
    ) -> None:
        self.children = children
        self._say = say
        self._shout = shout
        self._on_started = on_started

    def run(self) -> None:
        """Watch and restart forever; returns only by an exception (the runner's shutdown signal)."""
        while True:
            self.check(time.monotonic())
            time.sleep(POLL_SECONDS)

    def check(self, now: float) -> None:
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._restart(child)
            elif child.process is not None and not child.process.alive():
                self._died(child, now)

    def _died(self, child: Child, now: float) -> None:
        process = child.process
        assert process is not None
        process.finish_reading()
        if now - child.started_at >= STABLE_AFTER:
            child.failures = 0
        child.failures += 1
        delay = backoff(child.failures)
        child.restart_at = now + delay
        self._shout(
            f"{child.name} (pid {process.pid}) {describe_exit(process.returncode)} "
            f"after {describe_duration(time.time() - process.started_at)} up; "
            f"restarting it in {delay:.0f} s (failure {child.failures} in a row)"
        )
        self._say(crash_report(child.name, process, died_at=time.time()))

    def _restart(self, child: Child) -> None:
        child.restart_at = None
        self._say(f"restarting {child.name} ...")
        try:
            process = child.start()
        except (ProcessDied, TimeoutError) as exc:
            child.failures += 1
            delay = backoff(child.failures)
            child.restart_at = time.monotonic() + delay
            first_line = str(exc).splitlines()[0]
            self._shout(f"{child.name} did not come back ({first_line}); trying again in {delay:.0f} s")
            return
        self._on_started(child)
        self._say(f"{child.name} is back (pid {process.pid})")
