"""Starting and stopping what the bench measures.

Everything is started through the project's own modules (weft_cli): nats-server, the
database ladder (`weft_cli.ladder.provide_database`), `weft <service>` processes; plus the
bare baseline server. Each listens on 127.0.0.1 on a free port, and each is registered for
stopping (by PID, its own process group) the moment it exists, on an ExitStack the caller
closes in a `finally`.
"""

from __future__ import annotations

import json
import secrets
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pymongo import MongoClient

from harness.cpu import pid_listening_on
from weft_cli import ladder
from weft_cli.natsserver import NatsHandle, start_nats
from weft_cli.procs import LineSink, ManagedProcess, free_port, wait_for_http
from weft_cli.services import SERVICES
from weft_cli.testing import ServiceProcess, clean_base_env

HARNESS_DIR = Path(__file__).resolve().parent
# High enough that the gateway's per-caller token bucket never answers 429 during a run,
# while the limiter's code still runs on every request (0 would switch it off entirely).
RATE_LIMIT_PER_MINUTE = 1_000_000_000
RATE_LIMIT_BURST = 1_000_000_000

Log = Callable[[str], None]
# How warnings and errors look in the services' JSON logs (weft_shared.observability: lowercase
# levels, orjson without spaces), in nats-server's and SecantusDB's own logs, and a traceback.
NOTABLE = (
    '"level":"warning"',
    '"level":"error"',
    '"level":"critical"',
    "[WRN]",
    "[ERR]",
    "[FTL]",
    " WARN ",
    " ERROR ",
    "Traceback",
)


class OutputLog:
    """Child output: echoed when verbose; warnings and errors counted per process either way."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.notable: dict[str, list[str]] = {}

    def sink(self, name: str) -> LineSink:
        def write(line: str) -> None:
            if self.verbose:
                print(f"  [{name}] {line}", file=sys.stderr, flush=True)
            if any(word in line for word in NOTABLE):
                self.notable.setdefault(name, []).append(line)

        return write


class Service(Protocol):
    """A running service process as the scenarios see it (`ServiceProcess`, or `ProfiledService`)."""

    port: int

    @property
    def url(self) -> str: ...

    @property
    def pid(self) -> int: ...

    def stop(self, timeout: float = 10.0) -> int | None: ...


@dataclass
class ProfiledService:
    """`weft <name>` under cProfile (harness/profiled_service.py), for the --profile pass."""

    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> int | None:
        return self.process.stop(timeout)


@dataclass
class Stack:
    tmp: Path
    database: ladder.DatabaseHandle
    database_pid: int | None  # for CPU accounting; None if it is not a local process we can see
    nats: NatsHandle
    membership: Service
    events: Service
    gateway: Service
    resources: Service
    ping_port: int
    service_env: dict[str, str]
    membership_database: str
    events_database: str
    resources_database: str
    pids: dict[str, int] = field(default_factory=dict)  # process label -> PID, for CPU accounting

    @property
    def database_line(self) -> str:
        return f"database rung: {self.database.kind} - {self.database.description}"


def start_stack(exits: ExitStack, tmp: Path, output: OutputLog, log: Log) -> Stack:
    nats = start_nats(tmp / "nats", on_line=output.sink("nats"))
    exits.callback(nats.stop)
    log(f"nats-server: {nats.url} (pid {nats.pid})")

    database = ladder.provide_database(tmp / "database", log=log, on_line=output.sink("database"))
    exits.callback(database.stop)
    database_pid = _database_pid(database)
    counted = ""
    if database_pid is not None:
        counted = " (its CPU is counted)" if f"pid {database_pid}" in database.description else ""
        counted = counted or f" (pid {database_pid}: its CPU is counted)"
    log(f"database rung: {database.kind} - {database.description}{counted}")

    suffix = secrets.token_hex(4)
    membership_database = f"weft_membership_bench_{suffix}"
    events_database = f"weft_events_bench_{suffix}"
    resources_database = f"weft_resources_bench_{suffix}"
    service_env = {
        **clean_base_env(),
        "WEFT_ENV": "dev",
        "WEFT_NATS_URL": nats.url,
        "MONGODB_URL": database.url,
        "WEFT_LOG_JSON": "true",
        "WEFT_LOG_LEVEL": "WARNING",
        "WEFT_MEMBERSHIP_DATABASE": membership_database,
        "WEFT_EVENTS_DATABASE": events_database,
        "WEFT_RESOURCES_DATABASE": resources_database,
    }
    # Databases of the bench's own (a fresh name each run): leave nothing behind in the server,
    # which may be someone else's (MONGODB_URL). Registered before the services, so it runs after
    # they have stopped.
    exits.callback(drop_databases, database.url, [membership_database, events_database, resources_database])

    membership = start_service(exits, "membership", service_env, output)
    events = start_service(exits, "events", service_env, output)
    resources = start_service(exits, "resources", service_env, output)
    routed = {**gateway_env(service_env, membership.url, events.url), "WEFT_GATEWAY_RESOURCES_URL": resources.url}
    gateway = start_service(exits, "gateway", routed, output)
    log(f"resources: {resources.url} (pid {resources.pid})")
    log(
        f"membership: {membership.url} (pid {membership.pid}); events: {events.url} (pid {events.pid}); "
        f"gateway: {gateway.url} (pid {gateway.pid})"
    )

    ping_port = free_port()
    ping = ManagedProcess(
        "baseline",
        [sys.executable, str(HARNESS_DIR / "ping_server.py"), "--port", str(ping_port)],
        env=clean_base_env(),
        on_line=output.sink("baseline"),
    )
    exits.callback(ping.stop)
    wait_for_http(f"http://127.0.0.1:{ping_port}/ping", process=ping)
    log(f"baseline: http://127.0.0.1:{ping_port}/ping (pid {ping.pid})")

    stack = Stack(
        tmp=tmp,
        database=database,
        database_pid=database_pid,
        nats=nats,
        membership=membership,
        events=events,
        gateway=gateway,
        resources=resources,
        ping_port=ping_port,
        service_env=service_env,
        membership_database=membership_database,
        events_database=events_database,
        resources_database=resources_database,
    )
    stack.pids = {
        "gateway": gateway.pid,
        "membership": membership.pid,
        "events": events.pid,
        "resources": resources.pid,
        "nats": nats.pid,
        "baseline": ping.pid,
    }
    if database_pid is not None:
        stack.pids["database"] = database_pid
    return stack


def _database_pid(database: ladder.DatabaseHandle) -> int | None:
    """The server's PID: the ladder's own process, else whoever listens on the URL's local port."""
    process = getattr(database, "process", None)
    if process is not None:
        return int(process.pid)
    parsed = urllib.parse.urlsplit(database.url.split(",", 1)[0])
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        return None
    if host in ("127.0.0.1", "localhost", "::1") and port:
        return pid_listening_on(port)
    return None


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
) -> ProfiledService:
    """`weft <name>` under cProfile (harness/profiled_service.py); stats land in `out.<n>`, one per
    window (SIGUSR1 starts one, SIGUSR2 writes it)."""
    port = free_port()
    process = ManagedProcess(
        f"{name} (profiled)",
        [sys.executable, str(HARNESS_DIR / "profiled_service.py"), name, str(out)],
        env={**env, SERVICES[name].port_env: str(port)},
        on_line=output.sink(f"{name}-profiled"),
    )
    exits.callback(process.stop)
    service = ProfiledService(process, port)
    wait_for_http(f"{service.url}/healthz", process=process)
    return service


def drop_databases(url: str, names: list[str]) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        for name in names:
            client.drop_database(name)
    except Exception as exc:  # the run's figures are printed already; say it, don't mask them
        print(f"note: could not drop the bench databases {names}: {exc}", file=sys.stderr)
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
