"""One live `weft dev` per data folder: an flock on `<data>/dev.lock`, which names its holder.

The lock is held by the runner's open file, so the kernel releases it however the
runner ends (kill -9 included). The file also lists the runner's children; their
parent-death signal stops them when the runner dies, and a runner that takes the
folder over afterwards stops any the signal did not reach (a process started from
elsewhere, a platform without it) before it starts its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from weft_cli.ports import describe_process
from weft_cli.procs import pid_alive, process_start_time, stop_pid

LOCK_FILE = "dev.lock"


class DataFolderInUse(RuntimeError):
    """Another live `weft dev` holds the data folder."""


@dataclass
class _Child:
    name: str
    pid: int
    start_time: int | None

    def alive(self) -> bool:
        """Still the same process (not a later one that was given its pid)."""
        return pid_alive(self.pid) and process_start_time(self.pid) == self.start_time


@dataclass
class _Holder:
    pid: int
    start_time: int | None
    children: list[_Child] = field(default_factory=list)


class DataFolderLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None
        self._holder = _Holder(os.getpid(), process_start_time(os.getpid()))

    def acquire(self, *, log: Callable[[str], None]) -> None:
        """Take the folder, or raise `DataFolderInUse` naming the live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = describe_process(holder.pid) if holder else "another process"
            raise DataFolderInUse(
                f"{self.path.parent} is in use by another weft dev: {who}. Stop it first (Ctrl-C in its "
                "terminal), or give this one another --data-dir."
            ) from None
        self._fd = fd
        previous = _read(fd)
        if previous is not None:
            _stop_leftovers(previous, log=log)
        self._write()

    def record(self, name: str, pid: int) -> None:
        """Note a (re)started child, so that a later runner can stop it if it outlives us."""
        self._holder.children = [c for c in self._holder.children if c.name != name]
        self._holder.children.append(_Child(name, pid, process_start_time(pid)))
        self._write()

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def _write(self) -> None:
        assert self._fd is not None
        data = json.dumps(asdict(self._holder)).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)


def _read(fd: int) -> _Holder | None:
    try:
        raw = json.loads(os.pread(fd, 1 << 16, 0) or b"null")
        if raw is None:
            return None
        children = [_Child(c["name"], int(c["pid"]), c.get("start_time")) for c in raw.get("children", [])]
        return _Holder(int(raw["pid"]), raw.get("start_time"), children)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # written by something else, or half-written: nothing to act on


def _stop_leftovers(previous: _Holder, *, log: Callable[[str], None]) -> None:
    """Stop what a dead runner's children left running, newest first (the gateway before NATS)."""
    leftovers = [child for child in reversed(previous.children) if child.alive()]
    if leftovers:
        names = ", ".join(f"{child.name} (pid {child.pid})" for child in leftovers)
        log(f"the previous weft dev (pid {previous.pid}) is gone but left {names} running; stopping them")
    for child in leftovers:
        stop_pid(child.pid)  # each leads its own process group (see procs)
