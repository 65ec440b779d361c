"""The database ladder: which MongoDB-compatible server the dev stack and the tests use.

1. ``MONGODB_URL`` is set              -> use it as is
2. a Docker daemon answers             -> a real MongoDB through testcontainers
3. a Go toolchain (or a cached build)  -> FerretDB v1.24.2 over SQLite, built once
                                          into a cache outside the repo
4. none of these                       -> an error that says what to install

``python -m weft_cli.ladder --prepare`` builds FerretDB ahead of time when rung 3
is the one that will be used (CI runs it as its own, timed step).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from weft_cli.procs import LineSink, ManagedProcess, free_port, port_accepts, wait_until

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"
MONGO_IMAGE = "mongo:7.0"
HOST = "127.0.0.1"
DOCKER_CHECK_SECONDS = 5.0

Rung = Literal["MONGODB_URL", "testcontainers", "ferretdb"]
Log = Callable[[str], None]


class DatabaseUnavailable(RuntimeError):
    """No rung of the ladder can provide a database on this machine."""


@dataclass
class DatabaseHandle:
    url: str
    kind: Rung
    description: str
    _stop: Callable[[], object] | None = field(default=None, repr=False)
    # The server process when the ladder started one itself (FerretDB), for supervision.
    process: ManagedProcess | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the server if the ladder started it (idempotent)."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


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


# Where the official Go tarball and `go install golang.org/dl/...` put go when PATH lacks it.
GO_FALLBACK_PATHS = ("/usr/local/go/bin/go", str(Path.home() / "go" / "bin" / "go"))


def go_binary() -> str | None:
    found = shutil.which("go")
    if found:
        return found
    for candidate in GO_FALLBACK_PATHS:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def choose_rung() -> Rung:
    """The rung `provide_database` will use; raises `DatabaseUnavailable` with advice."""
    if os.environ.get("MONGODB_URL"):
        return "MONGODB_URL"
    if docker_available():
        return "testcontainers"
    if ferretdb_path().is_file() or go_binary() is not None:
        return "ferretdb"
    raise DatabaseUnavailable(
        "no MongoDB-compatible database available. Do one of:\n"
        "  - install a Go toolchain >= 1.24 (https://go.dev/dl/) so Weft can build FerretDB "
        f"{FERRETDB_VERSION} into {ferretdb_path().parent}, or\n"
        "  - start a Docker daemon (a MongoDB container is then used through testcontainers), or\n"
        "  - set MONGODB_URL to a MongoDB you run yourself (e.g. mongodb://127.0.0.1:27017)."
    )


# --- FerretDB: build once into a cache ------------------------------------------


def cache_dir() -> Path:
    if os.environ.get("WEFT_CACHE_DIR"):
        return Path(os.environ["WEFT_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "weft"


def ferretdb_path() -> Path:
    return cache_dir() / f"ferretdb-{FERRETDB_VERSION}" / "bin" / "ferretdb"


def ferretdb_version(binary: Path) -> str:
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    for line in out.splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError(f"{binary} --version printed no version:\n{out}")


def ensure_ferretdb(*, log: Log = print) -> Path:
    """The cached FerretDB binary, built first if missing (one builder at a time)."""
    target = ferretdb_path()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(target.parent / ".build.lock", log=log):
        if target.is_file():  # another process built it while we waited
            return target
        _build_ferretdb(target, log=log)
    return target


@contextlib.contextmanager
def _exclusive_lock(path: Path, *, log: Log) -> Iterator[None]:
    with path.open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another process that is building FerretDB ({path})")
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _build_ferretdb(target: Path, *, log: Log) -> None:
    go = go_binary()
    if go is None:
        raise DatabaseUnavailable("building FerretDB needs a Go toolchain >= 1.24 (https://go.dev/dl/); none on PATH")
    started = time.monotonic()
    log(f"building FerretDB {FERRETDB_VERSION} with {go} into {target} (once; about a minute) ...")
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}
    download = _run_go(
        [go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
        env=env,
    )
    module_dir = Path(json.loads(download)["Dir"])
    with tempfile.TemporaryDirectory(prefix="weft-ferretdb-build-") as tmp:
        source = Path(tmp) / "src"
        # The module cache is read-only and the published module lacks
        # build/version/version.txt, without which the binary panics at start.
        shutil.copytree(module_dir, source)
        _make_writable(source)
        (source / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            _run_go(
                [go, "build", "-trimpath", "-o", str(partial), "./cmd/ferretdb"],
                env=env,
                cwd=source,
            )
            built_version = ferretdb_version(partial)
            if built_version != FERRETDB_VERSION:
                raise RuntimeError(f"built FerretDB reports version {built_version!r}, expected {FERRETDB_VERSION}")
            os.replace(partial, target)  # atomic: readers see no binary or a whole one
        finally:
            partial.unlink(missing_ok=True)
    log(f"built FerretDB {FERRETDB_VERSION} in {time.monotonic() - started:.0f}s")


def _run_go(argv: list[str], *, env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DatabaseUnavailable(
            f"building FerretDB failed: `{' '.join(argv)}` exited {result.returncode}\n"
            f"{(result.stderr or result.stdout).strip()[-4000:]}"
        )
    return result.stdout


def _make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


# --- providing a running database -----------------------------------------------


def provide_database(
    data_dir: Path,
    *,
    rung: Rung | None = None,
    port: int | None = None,
    log: Log = print,
    on_line: LineSink | None = None,
    timeout: float = 60.0,
) -> DatabaseHandle:
    """A running MongoDB-compatible server from the highest rung that works here.

    `data_dir` holds FerretDB's SQLite files and state (kept between runs);
    `rung` skips the choice when the caller already made it (`choose_rung`);
    `port` is a wish for rung 3, `on_line` receives the server's own log lines.
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
        return _start_mongodb_container(log=log)
    return start_ferretdb(data_dir, port=port, log=log, on_line=on_line, timeout=timeout)


def start_ferretdb(
    data_dir: Path,
    *,
    port: int | None = None,
    log: Log = print,
    on_line: LineSink | None = None,
    timeout: float = 60.0,
) -> DatabaseHandle:
    binary = ensure_ferretdb(log=log)
    sqlite_dir = data_dir / "sqlite"
    state_dir = data_dir / "state"
    sqlite_dir.mkdir(parents=True, exist_ok=True)
    state_dir.mkdir(parents=True, exist_ok=True)
    port = port if port is not None else free_port(HOST)
    argv: list[str | os.PathLike[str]] = [
        binary,
        "--handler=sqlite",
        f"--sqlite-url=file:{sqlite_dir}/",
        "--telemetry=disable",
        f"--listen-addr={HOST}:{port}",
        f"--debug-addr={HOST}:{free_port(HOST)}",
        f"--state-dir={state_dir}",
        "--log-level=error",  # warn logs every unsupported command (e.g. endSessions) in full
    ]
    process = ManagedProcess("ferretdb", argv, on_line=on_line)
    url = f"mongodb://{HOST}:{port}/"
    try:
        wait_until(
            lambda: port_accepts(HOST, port),
            timeout=timeout,
            what=f"FerretDB on {HOST}:{port}",
            process=process,
        )
        wait_until(
            lambda: _pings(url),
            timeout=timeout,
            what=f"FerretDB at {url} to answer ping",
            process=process,
        )
    except BaseException:
        process.stop()
        raise
    return DatabaseHandle(
        url=url,
        kind="ferretdb",
        description=f"FerretDB {FERRETDB_VERSION} (SQLite in {sqlite_dir}), pid {process.pid}",
        _stop=process.stop,
        process=process,
    )


def _start_mongodb_container(*, log: Log) -> DatabaseHandle:
    from testcontainers.mongodb import (
        MongoDbContainer,
    )  # lazy: a dev dependency, slow to import

    log(f"starting {MONGO_IMAGE} with testcontainers ...")
    container = MongoDbContainer(MONGO_IMAGE)
    container.start()
    url = container.get_connection_url()
    return DatabaseHandle(
        url=url,
        kind="testcontainers",
        description=f"MongoDB container {MONGO_IMAGE} via testcontainers (data is not kept between runs)",
        _stop=container.stop,
    )


def _pings(url: str) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient[dict[str, object]] = MongoClient(url, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
    try:
        client.admin.command("ping")
    except PyMongoError:
        return False
    finally:
        client.close()
    return True


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
        help="build FerretDB now if it is the rung to be used",
    )
    args = parser.parse_args(argv)
    try:
        rung = choose_rung()
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"database ladder: rung = {rung}")
    if args.prepare and rung == "ferretdb":
        try:
            binary = ensure_ferretdb()
        except DatabaseUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"FerretDB {ferretdb_version(binary)} ready at {binary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
