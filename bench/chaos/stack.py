"""A stack of our own for the fault run: every piece on a fixed 127.0.0.1 port with its own
data folder, so it can be killed and started again in place.

NATS keeps its JetStream file store across restarts (same `-sd`). The database is a SecantusDB
server started by the project's ladder with `--sync-on-commit`, so an acknowledged commit is on
disk and the server may be `kill -9`ed without losing it (docs/secantusdb.md, item 1). A database
the ladder did not start (MONGODB_URL, Docker) is used as it is and never restarted.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import nats as nats_client
import orjson
from harness.stack import OutputLog, gateway_env

from weft_cli import ladder
from weft_cli.natsserver import NatsCluster, NatsHandle
from weft_cli.procs import free_port, http_status
from weft_cli.testing import ServiceProcess, clean_base_env

Log = Callable[[str], None]
BACKENDS = ("membership", "events")
READY_TIMEOUT = 90.0
STREAM = "WEFT"


def secantus_rung(wanted: str = "auto") -> ladder.SecantusRung | None:
    """The SecantusDB server to run: `wanted` if it names one, else the ladder's choice when it is
    one, else whichever is here; None when there is none."""
    for rung in ("secantusd-rs", "secantusd-py"):
        if wanted == rung:
            ladder.secantus_executable(rung)  # raises, saying what to install, if it is not here
            return rung
    try:
        chosen = ladder.choose_rung()
    except ladder.DatabaseUnavailable:
        return None
    if chosen == "secantusd-rs" or chosen == "secantusd-py":
        return chosen
    if ladder.secantusd_rs_path().is_file():
        return "secantusd-rs"
    return "secantusd-py" if ladder.secantusd_py_path() is not None else None


IDEMPOTENCY_LEASE_SECONDS = 15


@dataclass
class ChaosStack:
    root: Path
    output: OutputLog
    log: Log
    nats: NatsHandle
    database: ladder.DatabaseHandle
    rung: ladder.SecantusRung | None  # None: a database we did not start and cannot restart
    db_port: int | None
    databases: dict[str, str]  # service -> its database name
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # With --nats-nodes 3: the cluster (`nats` is then its first node) and the stream kept on all.
    cluster: NatsCluster | None = None
    killed_leader: str = ""  # the node the last leader fault killed

    @property
    def nats_url(self) -> str:
        return self.cluster.url if self.cluster is not None else self.nats.url

    @property
    def gateway_url(self) -> str:
        return self.services["gateway"].url

    @property
    def database_restartable(self) -> bool:
        return self.rung is not None

    # --- faults -------------------------------------------------------------------

    def kill_service(self, name: str) -> None:
        self.services[name].kill()

    def start_service(self, name: str) -> None:
        self.services[name].start(timeout=READY_TIMEOUT)

    def restart_nats(self) -> None:
        """SIGTERM and start again on the same port and store (JetStream flushes on a clean stop;
        a `kill -9` of nats-server can lose what it acknowledged in the last sync interval)."""
        self.nats.stop()
        self.nats.start()

    def kill_nats(self) -> None:
        self.nats.kill()

    def kill_stream_leader(self) -> None:
        """`kill -9` the cluster node that leads the stream (its followers elect another)."""
        assert self.cluster is not None
        self.killed_leader = asyncio.run(stream_leader(self.cluster.url, STREAM))
        self.log(f"  the stream's leader is {self.killed_leader}")
        self.cluster.node(self.killed_leader).kill()

    def start_killed_leader(self) -> None:
        assert self.cluster is not None
        self.cluster.node(self.killed_leader).start(timeout=READY_TIMEOUT)

    def kill_database(self) -> None:
        assert self.database.process is not None
        self.database.process.kill()

    def start_database(self) -> None:
        assert self.rung is not None and self.db_port is not None
        self.database = self._start_database(self.root, self.rung, self.db_port, self.output)

    # --- health ---------------------------------------------------------------------

    def unready(self) -> list[str]:
        """Services whose /readyz does not answer 200 (their database or NATS is not back for them)."""
        return [name for name, s in self.services.items() if http_status(f"{s.url}/readyz", timeout=3.0) != 200]

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float | None:
        """Seconds until every service is ready again; None if one is not within `timeout`."""
        started = time.monotonic()
        while self.unready():
            if time.monotonic() - started > timeout:
                return None
            time.sleep(0.2)
        return time.monotonic() - started

    def notable_lines(self) -> dict[str, Counter[str]]:
        """Warnings, errors and tracebacks each process printed, by message (context, not a verdict)."""
        return {name: Counter(_message_of(line) for line in lines) for name, lines in self.output.notable.items()}

    # --- starting -------------------------------------------------------------------

    @staticmethod
    def _start_database(root: Path, rung: ladder.SecantusRung, port: int, output: OutputLog) -> ladder.DatabaseHandle:
        return ladder.start_secantus(
            root / "database", rung=rung, port=port, on_line=output.sink("database"), sync_on_commit=True
        )

    @classmethod
    def start(
        cls, exits: ExitStack, root: Path, output: OutputLog, log: Log, *, server: str = "auto", nats_nodes: int = 1
    ) -> ChaosStack:
        cluster: NatsCluster | None = None
        if nats_nodes > 1:
            cluster = NatsCluster(root / "nats", nats_nodes, on_line_for=output.sink)
            exits.callback(cluster.stop)
            cluster.start()
            nats = cluster.nodes[0]
            log(f"nats cluster: {nats_nodes} nodes {cluster.url} (sync_interval: always), stream replicas {nats_nodes}")
        else:
            nats = NatsHandle(root / "nats", free_port(), free_port(), on_line=output.sink("nats"))
            exits.callback(nats.stop)
            nats.start()
            log(f"nats-server: {nats.url} (pid {nats.pid}, JetStream file store {nats.store_dir})")

        rung = secantus_rung(server)
        db_port: int | None = None
        if rung is not None:
            db_port = free_port()
            database = cls._start_database(root, rung, db_port, output)
        else:
            database = ladder.provide_database(root / "database", log=log, on_line=output.sink("database"))
        stack = cls(root, output, log, nats, database, rung, db_port, databases={}, cluster=cluster)
        exits.callback(lambda: stack.database.stop())
        log(f"database: {database.kind} - {database.description}")

        suffix = secrets.token_hex(4)
        stack.databases = {name: f"weft_{name}_chaos_{suffix}" for name in BACKENDS}
        env = {
            **clean_base_env(),
            "WEFT_ENV": "dev",
            "WEFT_NATS_URL": cluster.url if cluster is not None else nats.url,
            "WEFT_STREAM_REPLICAS": str(nats_nodes if cluster is not None else 1),
            "MONGODB_URL": database.url,
            "WEFT_LOG_JSON": "true",
            "WEFT_LOG_LEVEL": "WARNING",
            "WEFT_MEMBERSHIP_DATABASE": stack.databases["membership"],
            "WEFT_EVENTS_DATABASE": stack.databases["events"],
            # A first attempt killed after its commit holds its key this long ("still running"):
            # above the gateway's 10 s upstream timeout, within a client's retry budget.
            **{f"WEFT_{name.upper()}_IDEMPOTENCY_LEASE_SECONDS": str(IDEMPOTENCY_LEASE_SECONDS) for name in BACKENDS},
        }
        for name in BACKENDS:
            stack.services[name] = ServiceProcess(name, env, free_port(), on_line=output.sink(name))
        urls = {name: stack.services[name].url for name in BACKENDS}
        stack.services["gateway"] = ServiceProcess(
            "gateway", gateway_env(env, urls["membership"], urls["events"]), free_port(), on_line=output.sink("gateway")
        )
        for name, service in stack.services.items():
            exits.callback(service.stop)
            service.start(timeout=READY_TIMEOUT)
            log(f"{name}: {service.url} (pid {service.pid})")
        if stack.wait_ready() is None:
            raise RuntimeError(f"not ready after start: {', '.join(stack.unready())}")
        return stack


async def stream_leader(nats_url: str, stream: str) -> str:
    nc = await nats_client.connect(nats_url.split(","), allow_reconnect=False)
    try:
        info = await nc.jetstream().stream_info(stream)
    finally:
        await nc.close()
    if info.cluster is None or info.cluster.leader is None:
        raise RuntimeError(f"stream {stream} has no leader")
    return info.cluster.leader


def _message_of(line: str) -> str:
    """A JSON log line's message (its numbers blanked, so repeats group), else the line."""
    try:
        entry = orjson.loads(line)
        text = f"{entry.get('level')}: {entry.get('logger')}: {entry.get('msg')}"
    except (orjson.JSONDecodeError, AttributeError):
        text = line
    text = re.sub(r"\b[0-9a-f]{24}\b", "<id>", text)
    return re.sub(r"\d+", "N", text)[:160]
