"""Service processes for integration tests: `weft <service>` on a free port, by PID.

Kept free of pytest so test modules can import the types; `tests/conftest.py`
wraps it in fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from weft_cli.procs import LineSink, ManagedProcess, free_port, wait_for_http
from weft_cli.services import SERVICES, weft_command

HEALTHY_TIMEOUT = 30.0

# Outer settings a developer may have exported must not leak into test processes.
_INHERITED_PREFIXES_DROPPED = ("WEFT_", "MONGODB_URL")


def clean_base_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(_INHERITED_PREFIXES_DROPPED)}


class ServiceProcess:
    """One `weft <name>` child on a fixed port: start, stop, kill, restart in place."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        port: int,
        *,
        on_line: LineSink | None = None,
    ) -> None:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; known: {sorted(SERVICES)}")
        self.name = name
        self.port = port
        self.env = {**env, SERVICES[name].port_env: str(port)}
        self._on_line = on_line
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.alive()

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.returncode

    def start(self, timeout: float = HEALTHY_TIMEOUT) -> ServiceProcess:
        """Spawn and wait for GET /healthz == 200; raises ProcessDied / TimeoutError with its output."""
        if self.alive:
            return self
        self._process = ManagedProcess(self.name, [*weft_command(), self.name], env=self.env, on_line=self._on_line)
        try:
            wait_for_http(f"{self.url}/healthz", timeout, process=self._process)
        except BaseException:
            self._process.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        """Graceful: SIGTERM, then SIGKILL after `timeout`. Returns the exit code."""
        return None if self._process is None else self._process.stop(timeout)

    def kill(self) -> int | None:
        """SIGKILL, no shutdown hooks: a crash."""
        return None if self._process is None else self._process.kill()

    def restart(self, timeout: float = HEALTHY_TIMEOUT) -> ServiceProcess:
        """Stop (if running) and start again on the same port with the same env."""
        self.stop()
        return self.start(timeout)

    def output(self, lines: int = 80) -> str:
        """The last lines the process printed (its logs)."""
        return "" if self._process is None else self._process.tail(lines)


class ServiceLauncher:
    """Starts services with a shared base env and stops all of them, newest first."""

    def __init__(
        self,
        base_env: Mapping[str, str],
        *,
        on_line_for: Callable[[str], LineSink] | None = None,
    ) -> None:
        self._base_env = dict(base_env)
        self._on_line_for = on_line_for
        self.started: list[ServiceProcess] = []

    def start(self, name: str, env: Mapping[str, str] | None = None, port: int | None = None) -> ServiceProcess:
        service = ServiceProcess(
            name,
            {**clean_base_env(), **self._base_env, **(env or {})},
            port if port is not None else free_port(),
            on_line=self._on_line_for(name) if self._on_line_for else None,
        )
        self.started.append(service)
        return service.start()

    def stop_all(self) -> None:
        for service in reversed(self.started):
            service.stop()
        self.started.clear()
