"""The database ladder: which MongoDB-compatible server the dev stack, the tests and the bench use.

1. ``MONGODB_URL`` is set         -> use it as is
2. a Docker daemon answers        -> MongoDB 7 as a single-node replica set, through testcontainers
3. SecantusDB is installed        -> ``secantusd-rs`` when ``weft db build-fast`` has built it into
                                     the cache, else ``secantusd-py`` from the dev dependencies
4. none of these                  -> an error that says what to install

SecantusDB (GPL-2.0-only, beta) is a dev/test tool: the ladder runs it as a separate
server process; no service imports it and it is not in the production image.

``python -m weft_cli.ladder`` prints the rung that will be used; ``--prepare`` also
checks that the chosen SecantusDB server is there and prints its version (CI runs it
as its own, timed step).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import fcntl
import importlib.metadata
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from weft_cli.procs import LineSink, ManagedProcess, ProcessDied, free_port, port_accepts, wait_until

# SecantusDB's Rust server: crate, pinned version, and the binary `cargo install` leaves.
SECANTUS_RS_CRATE = "secantus-mdb"
SECANTUS_RS_VERSION = "0.5.3-beta.196"
SECANTUS_RS_BINARY = "secantusd-rs"
# SecantusDB's Python server: a console script of the `secantusdb` dev dependency.
SECANTUS_PY_DISTRIBUTION = "secantusdb"
SECANTUS_PY_BINARY = "secantusd-py"

MONGO_IMAGE = "mongo:7.0"
MONGO_REPLICA_SET = "rs0"
HOST = "127.0.0.1"
DOCKER_CHECK_SECONDS = 5.0

Rung = Literal["MONGODB_URL", "testcontainers", "secantusd-rs", "secantusd-py"]
SecantusRung = Literal["secantusd-rs", "secantusd-py"]
Log = Callable[[str], None]


class DatabaseUnavailable(RuntimeError):
    """No rung of the ladder can provide a database on this machine."""


class BuildFailed(RuntimeError):
    """`weft db build-fast` could not build secantusd-rs."""


@dataclass
class DatabaseHandle:
    url: str
    kind: Rung
    description: str
    # The server's own version when the ladder started it (SecantusDB's buildInfo.secantusVersion).
    server_version: str | None = None
    _stop: Callable[[], object] | None = field(default=None, repr=False)
    # The server process when the ladder started one itself (SecantusDB), for supervision.
    process: ManagedProcess | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the server if the ladder started it (idempotent)."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


# --- where things are -----------------------------------------------------------


def cache_dir() -> Path:
    if os.environ.get("WEFT_CACHE_DIR"):
        return Path(os.environ["WEFT_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "weft"


def secantusd_rs_root() -> Path:
    """The `cargo install --root` of the pinned secantusd-rs build."""
    return cache_dir() / f"{SECANTUS_RS_BINARY}-{SECANTUS_RS_VERSION}"


def secantusd_rs_path() -> Path:
    return secantusd_rs_root() / "bin" / SECANTUS_RS_BINARY


def secantusd_py_path() -> Path | None:
    """secantusd-py beside the running interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / SECANTUS_PY_BINARY
    if _is_executable(beside):
        return beside
    found = shutil.which(SECANTUS_PY_BINARY)
    return Path(found) if found else None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def secantus_executable(rung: SecantusRung) -> Path:
    """The server binary of a SecantusDB rung; raises `DatabaseUnavailable` if it is missing."""
    if rung == "secantusd-rs":
        binary = secantusd_rs_path()
        if not _is_executable(binary):
            raise DatabaseUnavailable(f"{binary} is not built; run `weft db build-fast`")
        return binary
    found = secantusd_py_path()
    if found is None:
        raise DatabaseUnavailable(
            f"{SECANTUS_PY_BINARY} is not installed; run `uv sync` (it comes with the dev dependencies)"
        )
    return found


def secantus_version(rung: SecantusRung) -> str:
    """The SecantusDB version of a rung's server, as far as it is known without starting it."""
    if rung == "secantusd-rs":
        return SECANTUS_RS_VERSION
    found = secantusd_py_path()
    if found is not None and found.parent == Path(sys.executable).parent:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(SECANTUS_PY_DISTRIBUTION)
    return "(version unknown: not this environment's)"


# --- choosing a rung ------------------------------------------------------------


def docker_available(timeout: float = DOCKER_CHECK_SECONDS) -> bool:
    """True if a Docker daemon answers within `timeout` seconds."""
    docker_cli = shutil.which("docker")
    if docker_cli:
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [docker_cli, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0
    try:
        import docker  # type: ignore[import-untyped]  # testcontainers' client, a dev dependency
    except ImportError:
        return False
    try:
        docker.from_env(timeout=int(timeout)).ping()
    except Exception:
        return False
    return True


def choose_rung() -> Rung:
    """The rung `provide_database` will use; raises `DatabaseUnavailable` with advice."""
    if os.environ.get("MONGODB_URL"):
        return "MONGODB_URL"
    if docker_available():
        return "testcontainers"
    if _is_executable(secantusd_rs_path()):
        return "secantusd-rs"
    if secantusd_py_path() is not None:
        return "secantusd-py"
    raise DatabaseUnavailable(
        "no MongoDB-compatible database available. Do one of:\n"
        f"  - run `uv sync` (or `make sync`): the dev dependencies bring SecantusDB's Python server, "
        f"{SECANTUS_PY_BINARY}, or\n"
        f"  - run `weft db build-fast` to build SecantusDB's Rust server, {SECANTUS_RS_BINARY}, with cargo "
        f"into {secantusd_rs_root()}, or\n"
        "  - start a Docker daemon (a MongoDB replica set container is then used through testcontainers), or\n"
        "  - set MONGODB_URL to a MongoDB replica set you run yourself (e.g. mongodb://127.0.0.1:27017)."
    )


def describe_choice(rung: Rung) -> str:
    """One line: the rung, what it is and why it was chosen (for `make run`, `make test`, the bench)."""
    if rung == "MONGODB_URL":
        return f"MONGODB_URL (set in the environment: {_redact(os.environ.get('MONGODB_URL', ''))})"
    if rung == "testcontainers":
        return f"testcontainers ({MONGO_IMAGE}, single-node replica set in Docker; no MONGODB_URL, Docker answers)"
    if rung == "secantusd-rs":
        return (
            f"secantusd-rs (SecantusDB {SECANTUS_RS_VERSION}, Rust server built by `weft db build-fast`: "
            f"{secantusd_rs_path()}; no MONGODB_URL, no Docker)"
        )
    return (
        f"secantusd-py (SecantusDB {secantus_version(rung)}, Python server; no MONGODB_URL, no Docker; "
        "run `weft db build-fast` for the faster Rust server)"
    )


# --- secantusd-rs: built once into the cache ------------------------------------


def cargo_binary() -> str | None:
    """cargo on PATH, else where rustup puts it."""
    found = shutil.which("cargo")
    if found:
        return found
    rustup_default = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo")) / "bin" / "cargo"
    return str(rustup_default) if _is_executable(rustup_default) else None


def build_secantusd_rs(*, log: Log = print) -> Path:
    """The cached secantusd-rs, built first with cargo if missing (one builder at a time)."""
    target = secantusd_rs_path()
    if _is_executable(target):
        log(f"{SECANTUS_RS_BINARY} {SECANTUS_RS_VERSION} is already built: {target}")
        return target
    root = secantusd_rs_root()
    root.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(root / ".build.lock", what=SECANTUS_RS_BINARY, log=log):
        if _is_executable(target):  # another process built it while we waited
            log(f"{SECANTUS_RS_BINARY} {SECANTUS_RS_VERSION} was built meanwhile: {target}")
            return target
        _cargo_install(root, log=log)
    if not _is_executable(target):
        raise BuildFailed(f"cargo reported success but {target} is missing")
    built = secantusd_rs_version(target)
    if built != SECANTUS_RS_VERSION:
        raise BuildFailed(f"{target} reports version {built!r}, expected {SECANTUS_RS_VERSION}")
    return target


def secantusd_rs_version(binary: Path) -> str:
    """The version a secantusd-rs binary reports (`secantusd-rs 0.5.3-beta.196` on its first line)."""
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    first = out.splitlines()[0] if out else ""
    return first.removeprefix(f"{SECANTUS_RS_BINARY} ").strip()


@contextlib.contextmanager
def _exclusive_lock(path: Path, *, what: str, log: Log) -> Iterator[None]:
    with path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another process that is building {what} ({path})")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _cargo_install(root: Path, *, log: Log) -> None:
    cargo = cargo_binary()
    if cargo is None:
        raise BuildFailed(
            f"building {SECANTUS_RS_BINARY} needs Rust's cargo (install it with https://rustup.rs); "
            "none on PATH or in ~/.cargo/bin. Without it the ladder uses secantusd-py, which is enough."
        )
    # --ignore-rust-version: the crate asks for a newer rustc than stable often is; it builds and runs fine.
    argv = [
        cargo,
        "install",
        SECANTUS_RS_CRATE,
        "--version",
        SECANTUS_RS_VERSION,
        "--ignore-rust-version",
        "--locked",
        "--root",
        str(root),
    ]
    log(f"building {SECANTUS_RS_BINARY} {SECANTUS_RS_VERSION} into {root} (once; 5 to 10 minutes):")
    log("  " + " ".join(argv))
    started = time.monotonic()
    progress = BuildProgress(started)
    last_lines: collections.deque[str] = collections.deque(maxlen=40)
    # cargo stays in our process group, so a Ctrl-C stops it too; `cargo install` puts the
    # binary into bin/ only after the whole build succeeded.
    process = subprocess.Popen(  # noqa: S603 - argv built above, no shell
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    # A reader thread, so that the heartbeat goes on while one crate takes minutes to compile.
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), name="cargo-output", daemon=True).start()
    try:
        while (raw := _next_line(lines, timeout=1.0)) is not None:
            line = raw.strip()
            if line:
                last_lines.append(line)
                progress.saw(line)
                if not line.startswith("warning: be sure to add"):  # to PATH: the ladder finds it without
                    log(f"  cargo | {line}")
            if (note := progress.due(time.monotonic())) is not None:
                log(note)
        code = process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
    took = _duration(time.monotonic() - started)
    if code != 0:
        tail = "\n".join(last_lines)
        raise BuildFailed(f"`{' '.join(argv)}` exited {code} after {took}:\n{tail}")
    log(f"built {SECANTUS_RS_BINARY} {SECANTUS_RS_VERSION} in {took}: {secantusd_rs_path()}")


_NO_LINE_YET = ""


def _read_lines(stream: IO[str] | None, into: queue.Queue[str | None]) -> None:
    assert stream is not None
    with stream:
        for line in stream:
            into.put(line)
    into.put(None)  # end of output


def _next_line(lines: queue.Queue[str | None], *, timeout: float) -> str | None:
    """The next line, "" when none came within `timeout`, None at the end of the output."""
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return _NO_LINE_YET


class BuildProgress:
    """What a build of minutes says while cargo is quiet: elapsed time and crates compiled so far.

    cargo prints one "Compiling <crate> <version>" line per crate (its progress bar needs a
    terminal), but a big crate can take minutes with nothing printed.
    """

    def __init__(self, started: float, *, every: float = 30.0) -> None:
        self.started = started
        self.every = every
        self.compiled = 0
        self._last_note = started

    def saw(self, line: str) -> None:
        if line.startswith("Compiling "):
            self.compiled += 1

    def due(self, now: float) -> str | None:
        """A progress line once `every` seconds have passed since the last one, else None."""
        if now - self._last_note < self.every:
            return None
        self._last_note = now
        crates = "1 crate" if self.compiled == 1 else f"{self.compiled} crates"
        return f"still building {SECANTUS_RS_BINARY}: {_duration(now - self.started)}, {crates} compiled"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# --- providing a running database -----------------------------------------------


def provide_database(
    data_dir: Path,
    *,
    rung: Rung | None = None,
    port: int | None = None,
    log: Log = print,
    on_line: LineSink | None = None,
    timeout: float = 60.0,
    sync_on_commit: bool = False,
) -> DatabaseHandle:
    """A running MongoDB-compatible server from the highest rung that works here.

    `data_dir` holds SecantusDB's files (kept between runs); `rung` skips the choice
    when the caller already made it (`choose_rung`); `port` is a wish for SecantusDB,
    `on_line` receives the server's own log lines. `sync_on_commit` makes SecantusDB
    flush each commit to disk, which is what mongod's `j: true` means (without it,
    its acknowledged writes can be lost on kill -9): the dev stack asks for it, for
    data kept between runs; tests and the bench, whose data is thrown away, do not.
    """
    rung = rung or choose_rung()
    if rung == "MONGODB_URL":
        url = os.environ["MONGODB_URL"]
        return DatabaseHandle(
            url=url,
            kind=rung,
            description=f"MONGODB_URL from the environment ({_redact(url)})",
        )
    if rung == "testcontainers":
        return _start_mongodb_replica_set(log=log, timeout=timeout)
    other: SecantusRung = "secantusd-py" if rung == "secantusd-rs" else "secantusd-rs"
    if (data_dir / other).is_dir():
        log(f"{rung} keeps its data in {data_dir / rung}; what {other} stored in {data_dir / other} is not used")
    return start_secantus(
        data_dir, rung=rung, port=port, on_line=on_line, timeout=timeout, sync_on_commit=sync_on_commit
    )


def start_secantus(
    data_dir: Path,
    *,
    rung: SecantusRung,
    port: int | None = None,
    on_line: LineSink | None = None,
    timeout: float = 60.0,
    sync_on_commit: bool = False,
) -> DatabaseHandle:
    """Start a SecantusDB server on 127.0.0.1, its data in `data_dir`, and wait until it answers.

    It advertises itself as the primary of a single-node replica set (its default),
    which is what gives drivers transactions and change streams.
    """
    binary = secantus_executable(rung)
    # One store per server: the two do not read each other's files reliably (secantusd-py finds
    # no document by _id or index equality in a store secantusd-rs wrote, though it counts them).
    storage = data_dir / rung
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "secantusd.toml"
    if not config.is_file():
        config.write_text(SECANTUS_CONFIG)
    port = port if port is not None else free_port(HOST)
    argv: list[str | os.PathLike[str]] = [
        binary,
        "--config",
        config,
        *_secantus_flags(rung, storage=storage, port=port),
        *(["--sync-on-commit"] if sync_on_commit else []),
    ]
    process = ManagedProcess(rung, argv, cwd=data_dir, on_line=on_line, is_noise=is_secantus_noise)
    url = f"mongodb://{HOST}:{port}/"
    try:
        wait_until(
            lambda: port_accepts(HOST, port),
            timeout=timeout,
            what=f"{rung} on {HOST}:{port}",
            process=process,
        )
        wait_until(
            lambda: _pings(url),
            timeout=timeout,
            what=f"{rung} at {url} to answer ping",
            process=process,
        )
        version = str(_command(url, "buildInfo").get("secantusVersion", "?"))
    except BaseException:
        process.stop()
        raise
    kind = "Rust" if rung == "secantusd-rs" else "Python"
    return DatabaseHandle(
        url=url,
        kind=rung,
        description=f"SecantusDB {version} ({kind} server, data in {storage}), pid {process.pid}",
        server_version=version,
        _stop=process.stop,
        process=process,
    )


# An explicit --config stops the servers from reading ~/.secantus/ or /etc/secantus/ settings
# (auth, standalone, ...) that would make the dev and test database differ from machine to machine.
SECANTUS_CONFIG = """\
# Written by weft (tools/weft_cli/ladder.py). The ladder passes every setting it needs as a flag;
# this file exists so that no machine-wide secantusd.toml applies. Settings added here are read.
"""


# SecantusDB logs an awaited getMore as a slow query: the outbox relay's change stream waits
# about a second on every getMore, so its log would say "Slow query ... outbox getMore ~1000ms"
# every second. Neither server has a setting that spares awaited reads (its slowms is per
# database and applies to every command), so those lines are dropped here, as are the
# CursorNotFound lines of getMores that reach a closing server at shutdown. A slow find,
# update or aggregate, and every other error, still shows.
_AWAITED_READ_NOISE = (
    re.compile(r"slow query.*\bgetmore\b.*(outbox|changestream)|slow query.*(outbox|changestream).*\bgetmore\b", re.I),
    re.compile(r"cursornotfound.*\b(getmore|killcursors)\b|\b(getmore|killcursors)\b.*cursornotfound", re.I),
)


def is_secantus_noise(line: str) -> bool:
    """A SecantusDB log line that only says a change stream waited (or lost its cursor at shutdown)."""
    return any(pattern.search(line) for pattern in _AWAITED_READ_NOISE)


def _secantus_flags(rung: SecantusRung, *, storage: Path, port: int) -> list[str]:
    """Bind to loopback only; INFO logs say little more than where it listens."""
    # Never --standalone: the replica-set advertisement is what enables transactions.
    return [
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--log-level",
        "INFO",
    ]


def _start_mongodb_replica_set(*, log: Log, timeout: float) -> DatabaseHandle:
    """mongo:7 started with --replSet, the set initiated with itself as the only member.

    No auth: mongod refuses a replica set with authorization but no key file, and the
    container listens only on a port Docker maps for this machine. The URL connects
    directly (`directConnection=true`) because the member's name inside the container
    is not an address this machine can reach.
    """
    # lazy: a dev dependency, slow to import
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    log(f"starting {MONGO_IMAGE} (replica set {MONGO_REPLICA_SET}) with testcontainers ...")
    container = (
        DockerContainer(MONGO_IMAGE)
        .with_exposed_ports(27017)
        .with_command(["--replSet", MONGO_REPLICA_SET, "--bind_ip_all"])
        .waiting_for(LogMessageWaitStrategy(re.compile(r"waiting for connections", re.IGNORECASE)))
    )
    container.start()
    try:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(27017))
        url = f"mongodb://{host}:{port}/?directConnection=true"
        wait_until(lambda: _pings(url), timeout=timeout, what=f"{MONGO_IMAGE} at {url} to answer ping")
        _initiate_replica_set(url)
        wait_until(
            lambda: bool(_command(url, "hello").get("isWritablePrimary")),
            timeout=timeout,
            what=f"replica set {MONGO_REPLICA_SET} at {url} to elect its primary",
        )
    except BaseException:
        container.stop()
        raise
    return DatabaseHandle(
        url=url,
        kind="testcontainers",
        description=(
            f"MongoDB container {MONGO_IMAGE}, single-node replica set {MONGO_REPLICA_SET}, "
            "via testcontainers (data is not kept between runs)"
        ),
        _stop=container.stop,
    )


def _initiate_replica_set(url: str) -> None:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure

    config = {"_id": MONGO_REPLICA_SET, "members": [{"_id": 0, "host": "localhost:27017"}]}
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        client.admin.command("replSetInitiate", config)
    except OperationFailure as exc:
        if exc.code != 23:  # AlreadyInitialized
            raise
    finally:
        client.close()


def _command(url: str, name: str) -> dict[str, Any]:
    """One admin command's reply; {} if the server does not answer."""
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000)
    try:
        return dict(client.admin.command(name))
    except PyMongoError:
        return {}
    finally:
        client.close()


def _pings(url: str) -> bool:
    return _command(url, "ping").get("ok") == 1


def _redact(url: str) -> str:
    """Hide the password in mongodb://user:password@host URLs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


# --- command line (CI) ----------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weft_cli.ladder", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="for a SecantusDB rung: start its server once in a scratch folder and print its version",
    )
    args = parser.parse_args(argv)
    try:
        rung = choose_rung()
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"database ladder: rung = {rung}")
    print(f"  {describe_choice(rung)}")
    if args.prepare and (rung == "secantusd-rs" or rung == "secantusd-py"):
        try:
            with tempfile.TemporaryDirectory(prefix="weft-ladder-prepare-") as scratch:
                handle = start_secantus(Path(scratch), rung=rung)
                handle.stop()
        except (DatabaseUnavailable, ProcessDied, TimeoutError) as exc:
            print(f"error: {rung} does not start: {exc}", file=sys.stderr)
            return 1
        print(f"SecantusDB {handle.server_version} ({rung}) starts and answers: {secantus_executable(rung)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
