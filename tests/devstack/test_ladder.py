"""The database ladder on this machine's real servers."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient, MongoClient
from pymongo.errors import DuplicateKeyError

from weft_cli import ladder

needs_ferretdb_rung = pytest.mark.skipif(
    bool(os.environ.get("MONGODB_URL"))
    or ladder.docker_available()
    or (ladder.go_binary() is None and not ladder.ferretdb_path().is_file()),
    reason="a higher rung (MONGODB_URL or Docker) is used here, or FerretDB cannot be built",
)


@needs_ferretdb_rung
def test_ladder_picks_ferretdb_without_mongodb_url_or_docker(
    database: ladder.DatabaseHandle,
) -> None:
    assert database.kind == "ferretdb"
    assert database.url.startswith("mongodb://127.0.0.1:")


async def test_database_stores_and_finds_documents(
    database: ladder.DatabaseHandle,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database.url)
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


def test_mongodb_url_rung_uses_the_url_as_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://user:secret@db.example:27017/")
    handle = ladder.provide_database(tmp_path)
    assert handle.kind == "MONGODB_URL"
    assert handle.url == "mongodb://user:secret@db.example:27017/"
    assert "secret" not in handle.description
    handle.stop()  # nothing was started, nothing to stop


def test_no_rung_explains_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker, no go
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.setenv("WEFT_CACHE_DIR", str(tmp_path / "cache"))  # no cached FerretDB
    monkeypatch.setattr(ladder, "GO_FALLBACK_PATHS", ())
    with pytest.raises(ladder.DatabaseUnavailable) as error:
        ladder.choose_rung()
    message = str(error.value)
    assert "Go toolchain" in message
    assert "Docker" in message
    assert "MONGODB_URL" in message


@needs_ferretdb_rung
def test_ferretdb_keeps_data_between_runs(tmp_path: Path) -> None:
    first = ladder.start_ferretdb(tmp_path)
    with MongoClient[dict[str, Any]](first.url) as client:
        client["keep"]["notes"].insert_one({"_id": "n1", "text": "still here"})
    first.stop()

    second = ladder.start_ferretdb(tmp_path)
    try:
        with MongoClient[dict[str, Any]](second.url) as client:
            assert client["keep"]["notes"].find_one({"_id": "n1"}) == {
                "_id": "n1",
                "text": "still here",
            }
    finally:
        second.stop()


@pytest.mark.skipif(ladder.go_binary() is None, reason="needs a Go toolchain")
@pytest.mark.timeout(900)
def test_ferretdb_builds_once_into_an_empty_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The fresh-machine path; two concurrent callers share one build (file lock)."""
    monkeypatch.setenv("WEFT_CACHE_DIR", str(tmp_path / "cache"))
    results: list[Path] = []
    messages: list[str] = []
    builders = [
        threading.Thread(target=lambda: results.append(ladder.ensure_ferretdb(log=messages.append))) for _ in range(2)
    ]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()

    binary = tmp_path / "cache" / f"ferretdb-{ladder.FERRETDB_VERSION}" / "bin" / "ferretdb"
    assert results == [binary, binary]
    assert ladder.ferretdb_version(binary) == ladder.FERRETDB_VERSION
    assert sum(message.startswith("built FerretDB") for message in messages) == 1
    assert not list(binary.parent.glob(".*.partial"))
