"""`weft dev`: run the whole suite locally in the foreground until Ctrl-C.

Starts NATS, a database from the ladder, a mail catcher for the notifications
service's mail (see `mailcatcher`), every backend service and the gateway,
each as a child process on the ports the environment sets (see `devports`);
restarts any that dies, with back-off (see `supervisor`); stops them in reverse
order on Ctrl-C / SIGTERM. The children die with the runner even on kill -9, and
one data folder serves one live runner (see `datalock`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from weft_cli import devports, ladder, mailcatcher
from weft_cli.datalock import LOCK_FILE, DataFolderInUse, DataFolderLock
from weft_cli.devports import PortChoice, PortsUnavailable
from weft_cli.natsserver import NatsHandle
from weft_cli.procs import LineSink, ManagedProcess, ProcessDied, wait_for_http
from weft_cli.services import BACKENDS, SERVICES, gateway_backend_env, weft_command
from weft_cli.supervisor import Child, Supervisor

READY_TIMEOUT = 60.0
# What `weft dev` keeps in its data folder; --fresh refuses to wipe a folder holding anything else.
DATA_ENTRIES = {"nats", "db", "logs", "mail", "search", "nats-url", "stack.json", LOCK_FILE}
# Where the running stack's NATS is, for `weft tail` (its port is random with --random-ports).
NATS_URL_FILE = "nats-url"
# Where the operator commands (`weft status`, `weft outbox status`) find this stack.
STACK_FILE = "stack.json"
# The resources service's search index (each replica keeps its own; rebuilt from the database if lost).
SEARCH_INDEX_ENV = "WEFT_RESOURCES_SEARCH_INDEX_DIR"
# Set by the user, this wins; otherwise the runner points calendar feeds at the gateway it starts.
FEED_BASE_URL_ENV = "WEFT_EVENTS_PUBLIC_BASE_URL"
# The same for the links in mails (unsubscribe, preferences, what a notification is about).
MAIL_BASE_URL_ENV = "WEFT_NOTIFICATIONS_PUBLIC_BASE_URL"
# Set by the user, this wins; otherwise links people click in mails open the web app it starts.
WEB_LINKS_ENV = "WEFT_NOTIFICATIONS_WEB_BASE_URL"
# In dev, webhooks may reach this machine (a receiver a developer runs locally), unless set.
WEBHOOK_NETWORKS_ENV = "WEFT_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS"
DEV_WEBHOOK_NETWORKS = '["127.0.0.0/8", "::1/128"]'
# Set by the user, the notifications service mails through that server; otherwise through the catcher.
SMTP_HOST_ENV = "WEFT_NOTIFICATIONS_SMTP_HOST"

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


def running_nats_url(data_dir: Path | None = None) -> str | None:
    """The NATS URL the last `weft dev` on this data folder started with (None: none yet)."""
    path = (data_dir or default_data_dir()) / NATS_URL_FILE
    return path.read_text().strip() or None if path.is_file() else None


def running_stack(data_dir: Path | None = None) -> dict[str, Any]:
    """What the last `weft dev` on this data folder started: its MongoDB URL and service URLs."""
    path = (data_dir or default_data_dir()) / STACK_FILE
    try:
        found = json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


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
    """Run the stack until interrupted; returns the process exit code (2: refused to start)."""
    if fresh and data_dir.exists():
        foreign = sorted(entry.name for entry in data_dir.iterdir() if entry.name not in DATA_ENTRIES)
        if foreign:
            shout(f"--fresh: {data_dir} holds more than weft dev data ({', '.join(foreign)}); not wiping it")
            return 2
    lock = DataFolderLock(data_dir)
    try:
        lock.acquire(log=say)
    except DataFolderInUse as exc:
        shout(str(exc))
        return 2
    try:
        if fresh:
            say(f"--fresh: emptying {data_dir}")
            _empty_but_the_lock(data_dir)
        return _run(data_dir, services, random_ports, lock)
    finally:
        lock.release()


def _empty_but_the_lock(data_dir: Path) -> None:
    # The lock file stays: removing it would let a second runner lock a new file beside ours.
    for entry in data_dir.iterdir():
        if entry.name == LOCK_FILE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _run(data_dir: Path, services: list[str], random_ports: bool, lock: DataFolderLock) -> int:
    children: list[Child] = []
    with contextlib.ExitStack() as cleanup, _signals_raise_shutdown():
        try:
            rung = _choose_database(data_dir)
            ports = _plan_ports(services, rung, random_ports=random_ports)
            devports.check_free(list(ports.values()))

            def started(child: Child) -> None:
                assert child.process is not None
                lock.record(child.name, child.process.pid)

            def add(child: Child) -> None:
                child.start()
                cleanup.callback(child.stop)
                children.append(child)
                started(child)

            env, database = _start_infrastructure(data_dir, rung, ports, add, cleanup)
            (data_dir / NATS_URL_FILE).write_text(env["WEFT_NATS_URL"] + "\n")
            if "mail" in ports:
                env.update(_start_mail_catcher(data_dir, ports["mail"].port, add))
            elif "notifications" in services:
                say(f"mail: {SMTP_HOST_ENV} is set, so no mail catcher; the notifications service mails through it")
            if "resources" in services and not os.environ.get(SEARCH_INDEX_ENV):
                env[SEARCH_INDEX_ENV] = str(data_dir / "search")
            urls = _start_services(services, env, ports, add)
            stack = {"mongodb_url": env["MONGODB_URL"], "services": dict(urls)}
            (data_dir / STACK_FILE).write_text(json.dumps(stack) + "\n")
            _print_summary(urls, env, database, data_dir)
            Supervisor(children, say=say, shout=shout, on_started=started).run()
            return 0  # not reached: only a signal ends supervision
        except _Shutdown as exc:
            say(f"{exc} received, stopping ...")
            return 0
        except PortsUnavailable as exc:
            shout(str(exc))
            return 2
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


def _choose_database(data_dir: Path) -> ladder.Rung:
    say("choosing a database (MONGODB_URL > Docker > secantusd-rs > secantusd-py) ...")
    rung = ladder.choose_rung()
    say(f"database: {ladder.describe_choice(rung)}")
    return rung


def _plan_ports(names: list[str], rung: ladder.Rung, *, random_ports: bool) -> dict[str, PortChoice]:
    """Every port the runner will bind, by what binds it; nothing has started yet."""
    env = os.environ
    plan: dict[str, PortChoice] = {}
    if not env.get("WEFT_NATS_URL"):
        plan["nats"] = devports.choose(*devports.NATS_PORT, random_ports=random_ports, env=env)
        plan["nats-monitor"] = devports.choose(*devports.NATS_MONITOR_PORT, random_ports=random_ports, env=env)
    if rung in ("secantusd-rs", "secantusd-py"):
        plan["database"] = devports.choose(*devports.DB_PORT, random_ports=random_ports, env=env)
    if "notifications" in names and not env.get(SMTP_HOST_ENV):  # the only service that sends mail
        plan["mail"] = devports.choose(*devports.SMTP_PORT, random_ports=random_ports, env=env)
    for name in names:
        spec = SERVICES[name]
        what = f"the {name} service"
        plan[name] = devports.choose(what, spec.port_envs, spec.default_port, random_ports=random_ports, env=env)
    return plan


def _start_infrastructure(
    data_dir: Path,
    rung: ladder.Rung,
    ports: dict[str, PortChoice],
    add: Callable[[Child], None],
    cleanup: contextlib.ExitStack,
) -> tuple[dict[str, str], ladder.DatabaseHandle]:
    """Env for the services (NATS and database URLs), and the database handle."""
    env = {"WEFT_ENV": "dev", "WEFT_LOG_JSON": "false"}
    if os.environ.get("WEFT_NATS_URL"):
        env["WEFT_NATS_URL"] = os.environ["WEFT_NATS_URL"]
        say(f"NATS: using WEFT_NATS_URL={env['WEFT_NATS_URL']}")
    else:
        nats_log = data_dir / "logs" / "nats.log"
        say(f"starting nats-server (JetStream in {data_dir / 'nats'}, log {nats_log}) ...")
        nats = NatsHandle(data_dir / "nats", ports["nats"].port, ports["nats-monitor"].port, on_line=_to_file(nats_log))

        def start_nats() -> ManagedProcess:
            nats.start()
            assert nats.process is not None
            return nats.process

        add(Child("nats-server", start_nats))
        env["WEFT_NATS_URL"] = nats.url
        say(f"nats-server ready at {nats.url} (pid {nats.pid}, monitor {nats.monitor_url})")

    handles: list[ladder.DatabaseHandle] = []

    def start_database() -> ManagedProcess:
        handle = ladder.provide_database(
            data_dir / "db",
            rung=rung,
            port=ports["database"].port if "database" in ports else None,
            log=say,
            on_line=_prefixed("database", _COLORS[-1]),
            sync_on_commit=True,  # the dev data is kept: acknowledged means on disk, as on mongod
        )
        handles.append(handle)
        assert handle.process is not None  # the SecantusDB rungs
        return handle.process

    if "database" in ports:
        add(Child("database", start_database))
    else:  # MONGODB_URL, or a container: no process of ours to watch
        handles.append(ladder.provide_database(data_dir / "db", rung=rung, log=say))
        cleanup.callback(handles[0].stop)
    database = handles[0]
    env["MONGODB_URL"] = database.url
    say(f"database ready: {database.kind} — {database.description}")
    return env, database


def _start_mail_catcher(data_dir: Path, port: int, add: Callable[[Child], None]) -> dict[str, str]:
    """Start the catcher; returns the notifications service's SMTP settings that point at it."""
    folder = mailcatcher.mail_folder(data_dir)
    say(f"starting the mail catcher on port {port} (mail kept in {folder}) ...")
    argv = [sys.executable, "-m", "weft_cli.mailcatcher", "--folder", str(folder), "--port", str(port)]

    def start() -> ManagedProcess:
        process = ManagedProcess("mail", argv, on_line=_prefixed("mail", _COLORS[-2]))
        try:
            process.wait_for_output(mailcatcher.LISTENING, timeout=READY_TIMEOUT)
        except BaseException:  # not ready, or Ctrl-C meanwhile: leave nothing behind
            process.stop()
            raise
        say(f"mail catcher started (pid {process.pid})")
        return process

    add(Child("mail", start))
    say(f"mail catcher ready at smtp://{mailcatcher.HOST}:{port}")
    return {
        SMTP_HOST_ENV: mailcatcher.HOST,
        "WEFT_NOTIFICATIONS_SMTP_PORT": str(port),
        "WEFT_NOTIFICATIONS_SMTP_STARTTLS": "false",
    }


def _start_services(
    names: list[str],
    infra_env: dict[str, str],
    ports: dict[str, PortChoice],
    add: Callable[[Child], None],
) -> dict[str, str]:
    urls: dict[str, str] = {}
    backend_ports: dict[str, int] = {}
    ordered = [n for n in BACKENDS if n in names] + [n for n in names if n not in BACKENDS]
    for index, name in enumerate(ordered):
        spec = SERVICES[name]
        port = ports[name].port
        env = {**os.environ, **infra_env, spec.port_env: str(port)}
        if name == "gateway":
            env.update(gateway_backend_env(backend_ports))
        if name == "web" and "gateway" in ports:
            env.setdefault("WEFT_WEB_GATEWAY_URL", f"http://127.0.0.1:{ports['gateway'].port}")
        if name == "events" and "gateway" in ports and not os.environ.get(FEED_BASE_URL_ENV):
            env[FEED_BASE_URL_ENV] = f"http://127.0.0.1:{ports['gateway'].port}"
        if name == "notifications":
            if "gateway" in ports and not os.environ.get(MAIL_BASE_URL_ENV):
                env[MAIL_BASE_URL_ENV] = f"http://127.0.0.1:{ports['gateway'].port}"
            env.setdefault(WEBHOOK_NETWORKS_ENV, DEV_WEBHOOK_NETWORKS)
            if "web" in ports and not os.environ.get(WEB_LINKS_ENV):
                env[WEB_LINKS_ENV] = f"http://127.0.0.1:{ports['web'].port}"
        url = f"http://127.0.0.1:{port}"
        say(f"starting {name} on port {port} ...")
        add(Child(name, _service_starter(name, env, url, _prefixed(name, _COLORS[index % (len(_COLORS) - 1)]))))
        say(f"{name} ready at {url}")
        urls[name] = url
        backend_ports[name] = port
    return urls


def _service_starter(name: str, env: dict[str, str], url: str, on_line: LineSink) -> Callable[[], ManagedProcess]:
    def start() -> ManagedProcess:
        process = ManagedProcess(name, [*weft_command(), name], env=env, on_line=on_line)
        try:
            wait_for_http(f"{url}/readyz", READY_TIMEOUT, process=process)
        except BaseException:  # not ready, or Ctrl-C meanwhile: leave nothing behind
            process.stop()
            raise
        say(f"{name} started (pid {process.pid})")
        return process

    return start


def _print_summary(urls: dict[str, str], env: dict[str, str], database: ladder.DatabaseHandle, data_dir: Path) -> None:
    rows: list[tuple[str, str]] = []
    if "web" in urls:
        rows.append(("web app", f"{urls['web']}  <- open this in a browser"))
    if "gateway" in urls:
        gateway = urls["gateway"]
        rows += [
            ("gateway", gateway),
            ("API docs", f"{gateway}/docs"),
            ("OpenAPI", f"{gateway}/openapi.json"),
            ("AsyncAPI", f"{gateway}/asyncapi.json"),
        ]
    rows += [(name, url) for name, url in urls.items() if name not in ("gateway", "web")]
    rows += [
        ("NATS", env["WEFT_NATS_URL"]),
        ("database", env["MONGODB_URL"]),
        ("", f"{database.kind}: {database.description}"),
    ]
    rows += _mail_rows(urls, env, data_dir)
    rows += [("data", str(data_dir))]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label:<{width}}  {value}" for label, value in rows]
    print(
        "\n" + _paint("1;32", "Weft is running") + " (Ctrl-C stops everything)\n"
        + "\n".join(lines)
        + "\n\nTry (in another terminal):\n"
        + "  .venv/bin/weft token alice --email alice@example.org\n  .venv/bin/weft tail\n"
        + (f"  {_mail_command(data_dir)}\n" if SMTP_HOST_ENV in env else ""),
        flush=True,
    )  # fmt: skip


def _mail_command(data_dir: Path) -> str:
    """How to read the caught mail of this data folder."""
    folder_option = "" if data_dir == default_data_dir().resolve() else f" --data-dir {data_dir}"
    return f".venv/bin/weft mail{folder_option}"


def _mail_rows(urls: dict[str, str], env: dict[str, str], data_dir: Path) -> list[tuple[str, str]]:
    if "notifications" not in urls:
        return []
    if SMTP_HOST_ENV not in env:  # the user's own SMTP server
        port = os.environ.get("WEFT_NOTIFICATIONS_SMTP_PORT", "its default port")
        return [("mail", f"sent through {os.environ[SMTP_HOST_ENV]} ({port}), as {SMTP_HOST_ENV} says")]
    smtp = f"smtp://{env[SMTP_HOST_ENV]}:{env['WEFT_NOTIFICATIONS_SMTP_PORT']}"
    return [
        ("mail", f"{smtp} catches every mail, kept in {mailcatcher.mail_folder(data_dir)}"),
        ("", f"read it: {_mail_command(data_dir)}  (`show N` prints one, `--follow` waits for new ones)"),
    ]
