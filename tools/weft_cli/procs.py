"""Child processes for the dev stack and the tests: start, watch, stop by PID.

Every child gets its own process group, so a Ctrl-C in the terminal reaches only
the parent, which then stops the children in the order it chooses; stopping
signals the whole group, so nothing a child spawned is left behind.

On Linux a child started from the main thread also dies with its parent, even
when the parent is killed with SIGKILL and can clean nothing up
(`PR_SET_PDEATHSIG`): no NATS, database or service outlives `weft dev` or a
test run.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

LineSink = Callable[[str], None]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
# What a child gets when its parent dies: SIGTERM, so servers still shut down cleanly.
PARENT_DEATH_SIGNAL = signal.SIGTERM


class ProcessDied(RuntimeError):
    """A child exited while we were waiting for it to become ready."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR as servers set it, so a port in TIME_WAIT still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of a GET, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - only our own local URLs
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def wait_until(
    ready: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    process: ManagedProcess | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it is true; fail early if `process` dies meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if process is not None and not process.alive():
            process.finish_reading()
            if ready():  # its last words may be what we were waiting for
                return
            raise ProcessDied(
                f"{process.name} exited with code {process.returncode} while waiting for {what}\n"
                f"--- last output of {process.name} ---\n{process.tail()}"
            )
        if time.monotonic() > deadline:
            details = f"\n--- last output of {process.name} ---\n{process.tail()}" if process else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{details}")
        time.sleep(interval)


def wait_for_http(
    url: str,
    timeout: float = 30.0,
    *,
    status: int = 200,
    process: ManagedProcess | None = None,
) -> None:
    """Wait until GET `url` answers with `status`."""
    wait_until(
        lambda: http_status(url) == status,
        timeout=timeout,
        what=f"{url} to answer {status}",
        process=process,
    )


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 30.0,
    *,
    process: ManagedProcess | None = None,
) -> None:
    wait_until(
        lambda: port_accepts(host, port),
        timeout=timeout,
        what=f"{host}:{port} to accept connections",
        process=process,
    )


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The state follows the parenthesised command name, which may contain spaces.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def process_start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), to tell it from a later process given the same pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel signal the child when its parent dies, or None off Linux.

    The kernel ties this to the parent *thread* that forked: a child started from a
    worker thread would be signalled when that thread ends, so only the main thread
    (which lives as long as the process) asks for it.
    """
    libc = _LIBC
    if libc is None or threading.current_thread() is not threading.main_thread():
        return None

    def set_parent_death_signal() -> None:
        # Runs in the child between fork and exec: no imports, no locks, nothing that allocates much.
        libc.prctl(_PR_SET_PDEATHSIG, int(PARENT_DEATH_SIGNAL), 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl: nobody will signal us
            os._exit(1)

    return set_parent_death_signal


def stop_pid(pid: int, *, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by `pid`, then SIGKILL it if it outlives `timeout`.

    For processes we did not spawn ourselves (no Popen to reap); ours use `ManagedProcess.stop`.
    """
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        # Not a group leader we own (or already reaped and reused): signal the process only.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class ManagedProcess:
    """One child process in its own process group, with its output read line by line.

    Every line is kept, with the time it arrived, in a short ring buffer (`tail()` and
    `recent()`, for error messages) and passed to `on_line` if given (prefix and print,
    write to a file, ...). A line `is_noise` says is known chatter and is dropped.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        on_line: LineSink | None = None,
        tail_lines: int = 200,
        is_noise: Callable[[str], bool] | None = None,
    ) -> None:
        self.name = name
        self.argv = [os.fspath(arg) for arg in argv]
        self._on_line = on_line
        self._is_noise = is_noise
        self._tail: collections.deque[tuple[float, str]] = collections.deque(maxlen=tail_lines)
        self.started_at = time.time()
        self._popen = subprocess.Popen(  # noqa: S603 - argv built by us, never a shell
            self.argv,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),  # does only prctl and getppid: safe with threads
        )
        self._reader = threading.Thread(target=self._read_output, name=f"output-{name}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def alive(self) -> bool:
        return self._popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        """The last lines the child printed (stdout and stderr together)."""
        return "\n".join(line for _, line in list(self._tail)[-lines:])

    def recent(self, seconds: float, *, until: float, lines: int = 20) -> list[tuple[float, str]]:
        """At most `lines` of its last lines, printed in the `seconds` before `until`, with their time."""
        return [(at, line) for at, line in list(self._tail) if at >= until - seconds][-lines:]

    def finish_reading(self, timeout: float = 2.0) -> None:
        """After the child exited: wait until its remaining output has been read."""
        if not self.alive():
            self._reader.join(timeout)

    def wait_for_output(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        """The first output line (still in the ring buffer) that matches `pattern`."""
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            # list() copies the deque in one step, safe against the reader thread appending.
            found.extend(m for m in (regex.search(line) for _, line in list(self._tail)) if m)
            return bool(found)

        wait_until(
            seen,
            timeout=timeout,
            what=f"{self.name} to print /{pattern}/",
            process=self,
        )
        return found[0]

    def send_signal(self, sig: signal.Signals) -> None:
        """Signal the child itself (not its group), as a terminal's Ctrl-C reaches a foreground program."""
        if self.alive():
            self._popen.send_signal(sig)

    def wait(self, timeout: float | None = None) -> int:
        return self._popen.wait(timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the group, SIGKILL it after `timeout`; returns the exit code."""
        if self.alive():
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self._popen.wait()
            # A child that forked helpers may exit before them; sweep its group too
            # (right away, while the group id cannot have been reused).
            _signal_group(self.pid, signal.SIGKILL)
        code = self._popen.wait()
        self.finish_reading()
        return code

    def kill(self) -> int:
        """SIGKILL the group at once (crash tests)."""
        if self.alive():
            _signal_group(self.pid, signal.SIGKILL)
        code = self._popen.wait()
        self.finish_reading()
        return code

    def _read_output(self) -> None:
        stream = self._popen.stdout
        assert stream is not None
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                if self._is_noise is not None and self._is_noise(line):
                    continue
                self._tail.append((time.time(), line))
                if self._on_line is not None:
                    try:
                        self._on_line(line)
                    except Exception:
                        self._on_line = None


def describe_exit(returncode: int | None) -> str:
    """How a child ended, as an operator reads it: "was killed by SIGKILL", "exited with code 1"."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


def describe_duration(seconds: float) -> str:
    """`4.2 s`, `3 min 12 s`, `2 h 5 min`."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
