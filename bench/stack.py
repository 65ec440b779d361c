"""Starting what the benchmark measures, and watching how much CPU each process spends.

Everything is started through the project's own modules (weft_cli): nats-server,
the database ladder, `weft <service>` processes; plus the baseline server. Every
process is registered for stopping (by PID, its own process group) the moment it
exists, on an ExitStack the caller closes in a `finally`.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from weft_cli import ladder
from weft_cli.natsserver import NatsHandle, start_nats
from weft_cli.procs import LineSink, ManagedProcess, free_port, wait_for_http
from weft_cli.services import SERVICES
from weft_cli.testing import ServiceProcess, clean_base_env

BENCH_DIR = Path(__file__).resolve().parent
# High enough that the gateway's per-caller token bucket never answers 429 during a run,
# while the limiter's code still runs on every request (0 would switch it off entirely).
RATE_LIMIT_PER_MINUTE = 1_000_000_000
RATE_LIMIT_BURST = 1_000_000_000


class OutputLog:
    """Child output: echoed when verbose; warnings and errors counted per process either way."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.notable: dict[str, list[str]] = {}

    def sink(self, name: str) -> LineSink:
        def write(line: str) -> None:
            if self.verbose:
                print(f"  [{name}] {line}", file=sys.stderr, flush=True)
            if any(word in line for word in ('"WARNING"', '"ERROR"', '"CRITICAL"', "Traceback")):
                self.notable.setdefault(name, []).append(line)

        return write


@dataclass
class Stack:
    tmp: Path
    rung: ladder.Rung
    database: ladder.DatabaseHandle
    nats: NatsHandle
    membership: ServiceProcess
    events: ServiceProcess
    gateway: ServiceProcess
    ping: ManagedProcess
    ping_port: int
    service_env: dict[str, str]
    database_name: str  # membership's
    events_database_name: str
    pids: dict[str, int] = field(default_factory=dict)  # process label -> PID, for CPU accounting


def start_stack(exits: ExitStack, tmp: Path, output: OutputLog, log: Callable[[str], None]) -> Stack:
    rung = ladder.choose_rung()
    log(f"database ladder: rung = {rung}")
    nats = start_nats(tmp / "nats", on_line=output.sink("nats"))
    exits.callback(nats.stop)
    log(f"nats-server: {nats.url} (pid {nats.pid})")

    database = ladder.provide_database(tmp / "database", rung=rung, log=log, on_line=output.sink("database"))
    exits.callback(database.stop)
    log(f"database: {database.description}")

    suffix = secrets.token_hex(4)
    database_name = f"weft_membership_bench_{suffix}"
    events_database_name = f"weft_events_bench_{suffix}"
    service_env = {
        **clean_base_env(),
        "WEFT_ENV": "dev",
        "WEFT_NATS_URL": nats.url,
        "MONGODB_URL": database.url,
        "WEFT_LOG_JSON": "true",
        "WEFT_LOG_LEVEL": "WARNING",
        "WEFT_MEMBERSHIP_DATABASE": database_name,
        "WEFT_EVENTS_DATABASE": events_database_name,
    }
    if rung == "MONGODB_URL":
        # Someone else's server: leave nothing behind in it.
        exits.callback(drop_database, database.url, database_name)
        exits.callback(drop_database, database.url, events_database_name)

    membership = start_service(exits, "membership", service_env, output)
    events = start_service(exits, "events", service_env, output)
    gateway = start_service(exits, "gateway", gateway_env(service_env, membership.url, events.url), output)
    log(
        f"membership: {membership.url} (pid {membership.pid}); events: {events.url} (pid {events.pid}); "
        f"gateway: {gateway.url} (pid {gateway.pid})"
    )

    ping_port = free_port()
    ping = ManagedProcess(
        "baseline",
        [sys.executable, str(BENCH_DIR / "ping_server.py"), "--port", str(ping_port)],
        env=clean_base_env(),
        on_line=output.sink("baseline"),
    )
    exits.callback(ping.stop)
    wait_for_http(f"http://127.0.0.1:{ping_port}/ping", process=ping)
    log(f"baseline: http://127.0.0.1:{ping_port}/ping (pid {ping.pid})")

    stack = Stack(
        tmp=tmp,
        rung=rung,
        database=database,
        nats=nats,
        membership=membership,
        events=events,
        gateway=gateway,
        ping=ping,
        ping_port=ping_port,
        service_env=service_env,
        database_name=database_name,
        events_database_name=events_database_name,
    )
    stack.pids = {
        "gateway": gateway.pid,
        "membership": membership.pid,
        "events": events.pid,
        "nats": nats.pid,
        "baseline": ping.pid,
    }
    if database.process is not None:
        stack.pids["database"] = database.process.pid
    return stack


def gateway_env(service_env: Mapping[str, str], membership_url: str, events_url: str) -> dict[str, str]:
    return {
        **service_env,
        "WEFT_GATEWAY_MEMBERSHIP_URL": membership_url,
        "WEFT_GATEWAY_EVENTS_URL": events_url,
        "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
        "WEFT_GATEWAY_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST),
    }


def start_service(exits: ExitStack, name: str, env: Mapping[str, str], output: OutputLog) -> ServiceProcess:
    service = ServiceProcess(name, env, free_port(), on_line=output.sink(name))
    exits.callback(service.stop)
    return service.start()


def start_profiled_service(
    exits: ExitStack, name: str, env: Mapping[str, str], out: Path, output: OutputLog
) -> tuple[ManagedProcess, str]:
    """`weft <name>` under cProfile (bench/profiled_service.py); stats land in `out` when it stops."""
    port = free_port()
    process = ManagedProcess(
        f"{name} (profiled)",
        [sys.executable, str(BENCH_DIR / "profiled_service.py"), name, str(out)],
        env={**env, SERVICES[name].port_env: str(port)},
        on_line=output.sink(f"{name}-profiled"),
    )
    exits.callback(process.stop)
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/healthz", process=process)
    return process, url


def drop_database(url: str, name: str) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(name)
    finally:
        client.close()


# --- after the run: did the joins really write and publish? --------------------------


def join_check_and_reset(
    url: str, database: str, events_database: str, community_id: str, user_prefix: str
) -> dict[str, int]:
    """What the joins of one scenario left (members, unpublished outbox), then remove it.

    FerretDB on SQLite answers only `{_id: x}` filters from an index; any other filter reads
    the whole collection, so each join gets slower as memberships pile up. Removing a
    scenario's members and users afterwards gives every join scenario the same starting
    state, whatever the order. The events service's read model of those members goes too
    (call this once it has consumed the joins), as every RSVP reads that collection whole.
    These are databases of the benchmark's own.
    """
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=3000)
    mine = {"$regex": f"^{user_prefix}"}
    try:
        db = client[database]
        found = {
            "active": db.memberships.count_documents(
                {"community_id": community_id, "status": "active", "user_id": mine}
            ),
            "unpublished": db.memberships.count_documents({"user_id": mine, "outbox_pending": True}),
        }
        db.memberships.delete_many({"user_id": mine})
        db.users.delete_many({"_id": mine})
        client[events_database].member_facts.delete_many({"user_id": mine})
        return found
    finally:
        client.close()


# --- the events service's own database (setup and checks, never inside a timed window) ----


def known_members(url: str, events_database: str, community_id: str, user_prefix: str) -> list[str]:
    """Users the events service holds as active members of the community (its read model)."""
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        facts = client[events_database].member_facts.find(
            {"community_id": community_id, "active": True, "user_id": {"$regex": f"^{user_prefix}"}},
            projection={"user_id": 1},
        )
        return [str(fact["user_id"]) for fact in facts]
    finally:
        client.close()


def member_fact_count(url: str, events_database: str) -> int:
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        return client[events_database].member_facts.count_documents({})
    finally:
        client.close()


def occurrence_stats(url: str, events_database: str, event_id: str) -> dict[str, int]:
    """One occurrence as stored: attendees by status, its BSON size, messages still in its outbox."""
    client: MongoClient[RawBSONDocument] = MongoClient(
        url, serverSelectionTimeoutMS=3000, document_class=RawBSONDocument
    )
    try:
        raw = client[events_database].events.find_one({"_id": event_id})
        if raw is None:
            return {}
        doc = bson.decode(raw.raw)
        attendees = doc.get("attendees") or []
        return {
            "attendees": len(attendees),
            "confirmed": sum(1 for a in attendees if a.get("status") == "confirmed"),
            "waitlisted": sum(1 for a in attendees if a.get("status") == "waitlisted"),
            "bytes": len(raw.raw),
            "outbox": len(doc.get("outbox") or []),
        }
    finally:
        client.close()


def jetstream_messages(monitor_url: str) -> dict[str, int]:
    """Messages per JetStream stream, from nats-server's monitoring endpoint."""
    with urllib.request.urlopen(f"{monitor_url}/jsz?streams=true", timeout=5) as response:
        data = json.load(response)
    counts: dict[str, int] = {}
    for account in data.get("account_details") or []:
        for stream in account.get("stream_detail") or []:
            counts[stream["name"]] = int(stream["state"]["messages"])
    return counts


# --- CPU accounting ---------------------------------------------------------------------

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
