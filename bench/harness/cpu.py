"""CPU seconds per process and for the whole machine, around each measured window.

On a 2-core machine shared with other work, a rate means little without knowing who had the
cores: the report shows, per scenario, each process's CPU per answered request and its share
of one core, and what everything else on the machine took ('rest').
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU of one process (all its threads) so far; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    # After the ")" the fields are numbered from 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICKS


def all_processes() -> dict[int, tuple[str, float]]:
    """Every process on the machine: pid -> (command name, CPU seconds so far)."""
    found: dict[int, tuple[str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                raw = stat.read()
        except OSError:
            continue
        name = raw[raw.find("(") + 1 : raw.rfind(")")]
        fields = raw[raw.rfind(")") + 1 :].split()
        try:
            found[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
        except (IndexError, ValueError):
            continue
    return found


def client_cpu_seconds() -> float:
    """This process (the load generator) plus its reaped children (wrk)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def machine_cpu() -> tuple[float, float, float]:
    """(busy, steal, total) seconds of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    busy = user + nice + system + irq + softirq
    total = busy + idle + iowait + steal
    return busy / _TICKS, steal / _TICKS, total / _TICKS


@dataclass
class CpuWindow:
    """CPU seconds each process spent in one measured window, and the machine's share."""

    seconds: float  # wall time of the window
    per_process: dict[str, float]  # label -> CPU seconds ("client" is the load generator)
    machine_busy: float  # CPU seconds, all processes on the machine
    machine_steal: float
    machine_total: float  # wall x CPUs, as the kernel counts it
    others: list[tuple[str, int, float]] = field(default_factory=list)  # busiest other processes: name, pid, s

    @property
    def other(self) -> float:
        """Busy CPU not spent by any process of this benchmark (other tenants, kernel threads)."""
        return max(0.0, self.machine_busy - sum(self.per_process.values()))


class CpuMeter:
    """A load generator `Window`: samples every process's CPU when the measured window starts and ends."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self.window: CpuWindow | None = None
        self._start: tuple[float, dict[str, float], tuple[float, float, float]] | None = None
        self._everyone: dict[int, tuple[str, float]] = {}

    def _sample(self) -> dict[str, float]:
        sample = {label: process_cpu_seconds(pid) for label, pid in self.pids.items()}
        sample["client"] = client_cpu_seconds()
        return sample

    def started(self) -> None:
        self._everyone = all_processes()
        self._start = (time.perf_counter(), self._sample(), machine_cpu())

    def ended(self) -> None:
        assert self._start is not None, "ended() before started()"
        wall0, before, machine0 = self._start
        after = self._sample()
        machine1 = machine_cpu()
        ours = {*self.pids.values(), os.getpid()}
        now = all_processes()
        others = [
            (name, pid, seconds - self._everyone.get(pid, (name, 0.0))[1])
            for pid, (name, seconds) in now.items()
            if pid not in ours
        ]
        others.sort(key=lambda other: other[2], reverse=True)
        self.window = CpuWindow(
            seconds=time.perf_counter() - wall0,
            per_process={label: after[label] - before[label] for label in after},
            machine_busy=machine1[0] - machine0[0],
            machine_steal=machine1[1] - machine0[1],
            machine_total=machine1[2] - machine0[2],
            others=[other for other in others[:3] if other[2] > 0],
        )


def pid_listening_on(port: int) -> int | None:
    """The PID of the local process listening on TCP `port` (e.g. a database started by hand for
    MONGODB_URL), so its CPU can be counted too; None if not found (another user's, or remote)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines)
                for line in lines:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                        inodes.add(inode)
        except (OSError, StopIteration, IndexError, ValueError):
            continue
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in wanted:
                    return int(entry)
        except OSError:
            continue
    return None
