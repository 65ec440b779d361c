"""The database ladder on this machine's real servers: SecantusDB's Python server, and its
Rust server when `weft db build-fast` has built it into the cache."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from weft_cli import ladder
from weft_cli.procs import pid_alive
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env

Document = dict[str, Any]

# The real secantusd-rs, if it has been built into this machine's cache (the ladder's default one).
BUILT_RS = ladder.secantusd_rs_path()
needs_built_rs = pytest.mark.skipif(
    not os.access(BUILT_RS, os.X_OK),
    reason=f"secantusd-rs is not built here ({BUILT_RS}); `weft db build-fast` builds it (5 to 10 minutes)",
)


def no_higher_rungs(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    """No MONGODB_URL, no Docker daemon, and `cache` as the ladder's cache."""
    monkeypatch.delenv("MONGODB_URL", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{cache}/no-docker.sock")
    monkeypatch.setenv("WEFT_CACHE_DIR", str(cache))


def link_built_rs_into(cache: Path) -> Path:
    """A cache holding (a symlink to) the real secantusd-rs, where the ladder looks for it."""
    binary = cache / f"secantusd-rs-{ladder.SECANTUS_RS_VERSION}" / "bin" / "secantusd-rs"
    binary.parent.mkdir(parents=True)
    binary.symlink_to(BUILT_RS)
    return binary


# --- the session's database, whichever rung gave it -----------------------------


def test_session_database_is_a_replica_set_primary(database: ladder.DatabaseHandle) -> None:
    """Weft needs transactions: every rung must give a replica set primary (SecantusDB advertises one)."""
    with MongoClient[Document](database.url) as client:
        hello = client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert hello.get("setName"), f"{database.kind} is not a replica set member: {hello}"


async def test_database_stores_and_finds_documents(database: ladder.DatabaseHandle) -> None:
    client: AsyncMongoClient[Document] = AsyncMongoClient(database.url)
    try:
        collection = client["devstack_ladder"]["things"]
        await collection.create_index("key", unique=True)
        await collection.insert_one({"key": "a", "value": 1})
        with pytest.raises(DuplicateKeyError):
            await collection.insert_one({"key": "a", "value": 2})
        found = await collection.find_one({"key": "a"}, {"_id": False})
        assert found == {"key": "a", "value": 1}
    finally:
        await client.drop_database("devstack_ladder")
        await client.close()


# --- choosing ---------------------------------------------------------------------


def test_ladder_picks_secantusd_py_without_url_docker_or_rust_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_higher_rungs(monkeypatch, tmp_path / "empty-cache")
    assert ladder.choose_rung() == "secantusd-py"
    assert "weft db build-fast" in ladder.describe_choice("secantusd-py")

    lines: list[str] = []
    handle = ladder.provide_database(tmp_path / "db", log=lines.append, on_line=lines.append)
    try:
        assert handle.kind == "secantusd-py"
        assert handle.process is not None and pid_alive(handle.process.pid)
        assert handle.url.startswith(f"mongodb://{ladder.HOST}:")
        assert handle.server_version == importlib.metadata.version("secantusdb")
        port = handle.url.removeprefix(f"mongodb://{ladder.HOST}:").rstrip("/")
        # The server's own log line reached on_line.
        assert any(f"listening on {ladder.HOST}:{port}" in line for line in lines), lines
        with MongoClient[Document](handle.url) as client:
            assert client.admin.command("ping")["ok"] == 1
    finally:
        handle.stop()
    assert not pid_alive(handle.process.pid)
    assert (tmp_path / "db" / "secantusd-py").is_dir()


@needs_built_rs
def test_ladder_picks_secantusd_rs_when_it_is_in_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = link_built_rs_into(tmp_path / "cache")
    no_higher_rungs(monkeypatch, tmp_path / "cache")
    assert ladder.choose_rung() == "secantusd-rs"
    assert str(binary) in ladder.describe_choice("secantusd-rs")

    (tmp_path / "db" / "secantusd-py").mkdir(parents=True)  # a store the Python server left
    lines: list[str] = []
    handle = ladder.provide_database(tmp_path / "db", log=lines.append, on_line=lines.append)
    try:
        assert handle.kind == "secantusd-rs"
        # The two servers cannot read each other's stores: each has its own, and the log says so.
        assert any("secantusd-py" in line and "is not used" in line for line in lines), lines
        assert (tmp_path / "db" / "secantusd-rs").is_dir()
        assert handle.process is not None and handle.process.argv[0] == str(binary)
        assert handle.server_version == ladder.SECANTUS_RS_VERSION
        port = handle.url.removeprefix(f"mongodb://{ladder.HOST}:").rstrip("/")
        assert any(f"{ladder.HOST}:{port}" in line for line in lines), lines
        with MongoClient[Document](handle.url) as client:
            assert client.admin.command("ping")["ok"] == 1
    finally:
        handle.stop()
    assert not pid_alive(handle.process.pid)


def test_no_rung_explains_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    no_higher_rungs(monkeypatch, tmp_path / "empty-cache")
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no secantusd-py on PATH
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # ... nor beside the interpreter
    with pytest.raises(ladder.DatabaseUnavailable) as error:
        ladder.choose_rung()
    message = str(error.value)
    assert "uv sync" in message
    assert "weft db build-fast" in message
    assert "Docker" in message
    assert "MONGODB_URL" in message


def test_mongodb_url_rung_uses_the_url_as_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://user:secret@db.example:27017/")
    handle = ladder.provide_database(tmp_path)
    assert handle.kind == "MONGODB_URL"
    assert handle.url == "mongodb://user:secret@db.example:27017/"
    assert "secret" not in handle.description
    assert "secret" not in ladder.describe_choice("MONGODB_URL")
    handle.stop()  # nothing was started, nothing to stop


def test_ladder_command_prepares_the_chosen_server(tmp_path: Path) -> None:
    """What CI's `database` step runs: the rung, and proof that its server starts."""
    env = {**clean_base_env(), "WEFT_CACHE_DIR": str(tmp_path / "empty-cache"), "DOCKER_HOST": "unix:///nonexistent"}
    result = subprocess.run(
        [sys.executable, "-m", "weft_cli.ladder", "--prepare"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "database ladder: rung = secantusd-py" in result.stdout
    version = importlib.metadata.version("secantusdb")
    assert f"SecantusDB {version} (secantusd-py) starts and answers" in result.stdout


# --- `weft db build-fast`, without a five-minute build ----------------------------


def run_weft(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*weft_command(), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_build_fast_without_cargo_says_what_to_install(tmp_path: Path) -> None:
    env = {
        **clean_base_env(),
        "PATH": str(tmp_path),
        "CARGO_HOME": str(tmp_path / "no-cargo"),
        "WEFT_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = run_weft("db", "build-fast", env=env)
    assert result.returncode == 1
    assert "cargo" in result.stderr and "rustup.rs" in result.stderr
    assert not (tmp_path / "cache" / f"secantusd-rs-{ladder.SECANTUS_RS_VERSION}" / "bin").exists()


@needs_built_rs
def test_build_fast_keeps_a_build_that_is_already_there(tmp_path: Path) -> None:
    binary = link_built_rs_into(tmp_path / "cache")
    env = {**clean_base_env(), "PATH": str(tmp_path), "WEFT_CACHE_DIR": str(tmp_path / "cache")}  # no cargo
    result = run_weft("db", "build-fast", env=env)
    assert result.returncode == 0, result.stderr
    assert f"already built: {binary}" in result.stdout


# --- what Weft needs from both SecantusDB servers ---------------------------------


@pytest.fixture(
    scope="module",
    params=["secantusd-py", pytest.param("secantusd-rs", marks=needs_built_rs)],
)
def secantus(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ladder.DatabaseHandle]:
    rung: ladder.SecantusRung = request.param
    if rung == "secantusd-rs":  # the real build, wherever the session's cache is
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("WEFT_CACHE_DIR", str(BUILT_RS.parents[2]))
            handle = ladder.start_secantus(tmp_path_factory.mktemp(rung), rung=rung)
    else:
        handle = ladder.start_secantus(tmp_path_factory.mktemp(rung), rung=rung)
    try:
        yield handle
    finally:
        handle.stop()


class Abort(Exception):
    pass


def test_multi_document_transaction_commits_together_and_abort_leaves_nothing(
    secantus: ladder.DatabaseHandle,
) -> None:
    with MongoClient[Document](secantus.url) as client:
        seats = client["ladder_txn"]["seats"]
        seats.drop()
        seats.insert_one({"_id": "setup"})  # create the collection outside any transaction

        def two_inserts(session: ClientSession) -> None:
            seats.insert_one({"_id": "a"}, session=session)
            seats.insert_one({"_id": "b"}, session=session)

        with client.start_session() as session:
            session.with_transaction(two_inserts)
        assert sorted(doc["_id"] for doc in seats.find()) == ["a", "b", "setup"]

        seen_inside: list[int] = []
        seen_outside: list[Document | None] = []

        def two_inserts_then_fail(session: ClientSession) -> None:
            seats.insert_one({"_id": "c"}, session=session)
            seats.insert_one({"_id": "d"}, session=session)
            seen_inside.append(seats.count_documents({}, session=session))
            seen_outside.append(seats.find_one({"_id": "c"}))  # not committed: invisible outside
            raise Abort

        with client.start_session() as session, pytest.raises(Abort):
            session.with_transaction(two_inserts_then_fail)
        assert seen_inside == [5]
        assert seen_outside == [None]
        assert sorted(doc["_id"] for doc in seats.find()) == ["a", "b", "setup"]
        client.drop_database("ladder_txn")


def next_change(stream: Any) -> Document:
    for _ in range(40):  # each try waits up to max_await_time_ms on the server
        change = stream.try_next()
        if change is not None:
            return dict(change)
    raise AssertionError("no change arrived on the change stream")


def test_change_stream_sees_inserts_and_updates_in_order_and_resumes(secantus: ladder.DatabaseHandle) -> None:
    with MongoClient[Document](secantus.url) as client:
        notes = client["ladder_watch"]["notes"]
        notes.drop()
        notes.insert_one({"_id": "before"})  # not seen: the stream starts after it
        with notes.watch(full_document="updateLookup", max_await_time_ms=250) as stream:
            notes.insert_one({"_id": "n1", "text": "first"})
            notes.update_one({"_id": "n1"}, {"$set": {"text": "second"}})
            inserted = next_change(stream)
            updated = next_change(stream)
        assert (inserted["operationType"], inserted["documentKey"]) == ("insert", {"_id": "n1"})
        assert (updated["operationType"], updated["fullDocument"]) == ("update", {"_id": "n1", "text": "second"})

        with notes.watch(resume_after=inserted["_id"], max_await_time_ms=250) as resumed:
            again = next_change(resumed)
        assert again["operationType"] == "update"
        assert again["updateDescription"]["updatedFields"] == {"text": "second"}
        client.drop_database("ladder_watch")


def test_secantus_keeps_data_between_runs(secantus: ladder.DatabaseHandle, tmp_path: Path) -> None:
    rung = secantus.kind
    assert rung in ("secantusd-py", "secantusd-rs")
    with pytest.MonkeyPatch.context() as patch:
        if rung == "secantusd-rs":
            patch.setenv("WEFT_CACHE_DIR", str(BUILT_RS.parents[2]))
        first = ladder.start_secantus(tmp_path, rung=rung)
        try:
            with MongoClient[Document](first.url) as client:
                client["keep"]["notes"].insert_one({"_id": "n1", "text": "still here"})
        finally:
            first.stop()

        second = ladder.start_secantus(tmp_path, rung=rung)
        try:
            with MongoClient[Document](second.url) as client:
                assert client["keep"]["notes"].find_one({"_id": "n1"}) == {"_id": "n1", "text": "still here"}
        finally:
            second.stop()


def test_build_progress_speaks_while_cargo_is_quiet() -> None:
    progress = ladder.BuildProgress(started=1000.0, every=30.0)
    for line in ["Updating crates.io index", "Compiling libc v0.2.170", "Compiling serde v1.0.219"]:
        progress.saw(line)
    assert progress.due(1029.0) is None
    assert progress.due(1090.0) == f"still building {ladder.SECANTUS_RS_BINARY}: 1m 30s, 2 crates compiled"
    assert progress.due(1100.0) is None  # the next one 30 s after this one
    progress.saw("Compiling secantus-mdb v0.5.3-beta.196")
    assert progress.due(1120.0) == f"still building {ladder.SECANTUS_RS_BINARY}: 2m 00s, 3 crates compiled"
