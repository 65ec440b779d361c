"""`weft dev`: run the whole suite locally in the foreground until Ctrl-C.

Starts NATS, a database from the ladder, every backend service and the gateway,
each as a child process; stops them in reverse order on Ctrl-C / SIGTERM, or
when any of them dies.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from weft_cli import ladder
from weft_cli.natsserver import NatsHandle
from weft_cli.procs import (
    LineSink,
    ManagedProcess,
    ProcessDied,
    free_port,
    preferred_port,
    wait_for_http,
)
from weft_cli.services import BACKENDS, SERVICES, gateway_backend_env, weft_command

NATS_PORT = 4222
NATS_MONITOR_PORT = 8222
DB_PORT = 27017
READY_TIMEOUT = 60.0
# What `weft dev` keeps in its data folder; --fresh refuses to wipe a folder holding anything else.
DATA_ENTRIES = {"nats", "db", "logs"}

_COLORS = ["36", "35", "33", "32", "34", "31"]


def say(message: str) -> None:
    print(f"weft dev | {message}", flush=True)


def shout(message: str) -> None:
    print(f"\n{_paint('1;31', '!!! ' + message)}\n", file=sys.stderr, flush=True)


def _paint(code: str, text: str) -> str:
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return text
    return f"\033[{code}m{text}\033[0m"


def _prefixed(name: str, color: str) -> LineSink:
    label = _paint(color, f"{name:>10} |")

    def write(line: str) -> None:
        print(f"{label} {line}", flush=True)

    return write


def _to_file(path: Path) -> LineSink:
    path.parent.mkdir(parents=True, exist_ok=True)
    log_file = path.open("a", buffering=1, encoding="utf-8")

    def write(line: str) -> None:
        log_file.write(line + "\n")

    return write


def default_data_dir() -> Path:
    """`.weft/` at the repo root (found from this editable install), else in the current directory."""
    repo = Path(__file__).resolve().parents[2]
    root = repo if (repo / "pyproject.toml").is_file() and (repo / "services").is_dir() else Path.cwd()
    return root / ".weft"


class _Shutdown(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)


def _raise_shutdown(signum: int, _frame: FrameType | None) -> None:
    # From here on the cleanup runs; a second Ctrl-C must not cut it short
    # (every stop is bounded: SIGTERM, then SIGKILL after a timeout).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Shutdown(signum)


@contextlib.contextmanager
def _signals_raise_shutdown() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _raise_shutdown) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_dev(*, data_dir: Path, fresh: bool, services: list[str], random_ports: bool) -> int:
    """Run the stack until interrupted; returns the process exit code."""
    pick: Callable[[int], int] = (lambda _port: free_port()) if random_ports else preferred_port
    if fresh and data_dir.exists():
        foreign = sorted(entry.name for entry in data_dir.iterdir() if entry.name not in DATA_ENTRIES)
        if foreign:
            shout(f"--fresh: {data_dir} holds more than weft dev data ({', '.join(foreign)}); not wiping it")
            return 2
        say(f"--fresh: removing {data_dir}")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    children: list[ManagedProcess] = []
    with contextlib.ExitStack() as cleanup, _signals_raise_shutdown():
        try:
            env, database = _start_infrastructure(data_dir, pick, cleanup, children)
            urls = _start_services(services, env, pick, cleanup, children)
            _print_summary(urls, env, database, data_dir)
            return _supervise(children)
        except _Shutdown as exc:
            say(f"{exc} received, stopping ...")
            return 0
        except (ProcessDied, TimeoutError, ladder.DatabaseUnavailable) as exc:
            shout(str(exc))
            return 1
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if children:
                say("stopping " + ", ".join(child.name for child in reversed(children)) + " ...")
            cleanup.close()
            say("stopped")


def _start_infrastructure(
    data_dir: Path,
    pick: Callable[[int], int],
    cleanup: contextlib.ExitStack,
    children: list[ManagedProcess],
) -> tuple[dict[str, str], ladder.DatabaseHandle]:
    """Env for the services (NATS and database URLs), and the database handle."""
    env = {"WEFT_ENV": "dev", "WEFT_LOG_JSON": "false"}
    if os.environ.get("WEFT_NATS_URL"):
        env["WEFT_NATS_URL"] = os.environ["WEFT_NATS_URL"]
        say(f"NATS: using WEFT_NATS_URL={env['WEFT_NATS_URL']}")
    else:
        nats_log = data_dir / "logs" / "nats.log"
        say(f"starting nats-server (JetStream in {data_dir / 'nats'}, log {nats_log}) ...")
        handle = NatsHandle(
            data_dir / "nats",
            pick(NATS_PORT),
            pick(NATS_MONITOR_PORT),
            on_line=_to_file(nats_log),
        )
        cleanup.callback(handle.stop)
        handle.start()
        assert handle.process is not None
        children.append(handle.process)
        env["WEFT_NATS_URL"] = handle.url
        say(f"nats-server ready at {handle.url} (pid {handle.pid}, monitor {handle.monitor_url})")

    say("choosing a database (MONGODB_URL > Docker > secantusd-rs > secantusd-py) ...")
    rung = ladder.choose_rung()
    say(f"database: {ladder.describe_choice(rung)}")
    database = ladder.provide_database(
        data_dir / "db",
        rung=rung,
        port=pick(DB_PORT),
        log=say,
        on_line=_prefixed("database", _COLORS[-1]),
        sync_on_commit=True,  # the dev data is kept: acknowledged means on disk, as on mongod
    )
    cleanup.callback(database.stop)
    if database.process is not None:
        children.append(database.process)
    env["MONGODB_URL"] = database.url
    say(f"database ready: {database.kind} — {database.description}")
    return env, database


def _start_services(
    names: list[str],
    infra_env: dict[str, str],
    pick: Callable[[int], int],
    cleanup: contextlib.ExitStack,
    children: list[ManagedProcess],
) -> dict[str, str]:
    urls: dict[str, str] = {}
    backend_ports: dict[str, int] = {}
    ordered = [n for n in BACKENDS if n in names] + [n for n in names if n not in BACKENDS]
    for index, name in enumerate(ordered):
        spec = SERVICES[name]
        port = pick(spec.default_port)
        env = {**os.environ, **infra_env, spec.port_env: str(port)}
        if name == "gateway":
            env.update(gateway_backend_env(backend_ports))
        say(f"starting {name} on port {port} ...")
        process = ManagedProcess(
            name,
            [*weft_command(), name],
            env=env,
            on_line=_prefixed(name, _COLORS[index % (len(_COLORS) - 1)]),
        )
        cleanup.callback(process.stop)
        children.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/readyz", READY_TIMEOUT, process=process)
        say(f"{name} ready at {url} (pid {process.pid})")
        urls[name] = url
        backend_ports[name] = port
    return urls


def _print_summary(urls: dict[str, str], env: dict[str, str], database: ladder.DatabaseHandle, data_dir: Path) -> None:
    rows: list[tuple[str, str]] = []
    if "gateway" in urls:
        gateway = urls["gateway"]
        rows += [
            ("gateway", gateway),
            ("API docs", f"{gateway}/docs"),
            ("OpenAPI", f"{gateway}/openapi.json"),
            ("AsyncAPI", f"{gateway}/asyncapi.json"),
        ]
    rows += [(name, url) for name, url in urls.items() if name != "gateway"]
    rows += [
        ("NATS", env["WEFT_NATS_URL"]),
        ("database", env["MONGODB_URL"]),
        ("", f"{database.kind}: {database.description}"),
        ("data", str(data_dir)),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    print(
        "\n" + _paint("1;32", "Weft is running") + " (Ctrl-C stops everything)\n"
        + "\n".join(lines)
        + "\n\nTry (in another terminal):\n"
        + "  .venv/bin/weft token alice --email alice@example.org\n  .venv/bin/weft tail\n",
        flush=True,
    )  # fmt: skip


def _supervise(children: list[ManagedProcess]) -> int:
    """Block until a child dies (exit 1) or a signal raises `_Shutdown`."""
    while True:
        for child in children:
            if not child.alive():
                child.finish_reading()
                shout(f"{child.name} (pid {child.pid}) died with exit code {child.returncode}; stopping the rest")
                print(
                    f"--- last output of {child.name} ---\n{child.tail(20)}",
                    file=sys.stderr,
                    flush=True,
                )
                return 1
        time.sleep(0.25)
