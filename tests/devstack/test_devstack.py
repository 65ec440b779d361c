"""`weft dev` with infrastructure only: it starts, keeps data, and leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from weft_cli.procs import ManagedProcess, pid_alive
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env

RUNNING = r"Weft is running"


def start_dev(data_dir: Path, *extra: str) -> ManagedProcess:
    argv = [
        *weft_command(),
        "dev",
        "--services",
        "none",
        "--random-ports",
        "--data-dir",
        str(data_dir),
        *extra,
    ]
    # clean_base_env drops MONGODB_URL and WEFT_NATS_URL, so `weft dev` starts its own servers.
    return ManagedProcess("weft-dev", argv, env={**clean_base_env(), "NO_COLOR": "1"})


def started_pids(dev: ManagedProcess) -> set[int]:
    """The servers' pids, as `weft dev` reports them."""
    return {int(pid) for pid in re.findall(r"\bpid (\d+)", dev.tail(200))}


def database_url(dev: ManagedProcess) -> str:
    return dev.wait_for_output(r"^\s+database\s+(mongodb://\S+)").group(1)


def interrupt(dev: ManagedProcess) -> int:
    """Ctrl-C as a terminal sends it; then wait for the exit code."""
    dev.send_signal(signal.SIGINT)
    return dev.wait(timeout=60)


def test_dev_starts_infrastructure_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_for_output(RUNNING, timeout=90)
        # The chosen rung and why, before the database starts (clean_base_env drops MONGODB_URL).
        rung = dev.wait_for_output(r"database: (secantusd-rs|secantusd-py|testcontainers) \(").group(1)
        pids = started_pids(dev)
        assert len(pids) == (1 if rung == "testcontainers" else 2)  # nats-server, and the SecantusDB server
        assert all(pid_alive(pid) for pid in pids)
    finally:
        code = interrupt(dev)
    assert code == 0
    assert not any(pid_alive(pid) for pid in pids)
    assert (tmp_path / "data" / "nats" / "jetstream").is_dir()


def test_dev_keeps_data_between_runs_until_fresh(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    def run_and_read(*extra: str, write: bool = False) -> dict[str, object] | None:
        dev = start_dev(data_dir, *extra)
        try:
            dev.wait_for_output(RUNNING, timeout=90)
            with MongoClient[dict[str, Any]](database_url(dev)) as client:
                notes = client["devstack_keep"]["notes"]
                if write:
                    notes.insert_one({"_id": "n1", "text": "kept"})
                return notes.find_one({"_id": "n1"})
        finally:
            assert interrupt(dev) == 0

    assert run_and_read(write=True) == {"_id": "n1", "text": "kept"}
    assert run_and_read() == {"_id": "n1", "text": "kept"}
    assert run_and_read("--fresh") is None


def test_dev_stops_the_rest_and_fails_when_a_child_dies(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_for_output(RUNNING, timeout=90)
        nats_pid = int(dev.wait_for_output(r"nats-server ready at \S+ \(pid (\d+)").group(1))
        pids = started_pids(dev)
        os.kill(nats_pid, signal.SIGKILL)
        code = dev.wait(timeout=60)
    finally:
        dev.stop()
    assert code == 1
    dev.finish_reading()
    assert "nats-server" in dev.tail(50) and "died" in dev.tail(50)
    assert not any(pid_alive(pid) for pid in pids)


def test_dev_fresh_refuses_to_wipe_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    dev = start_dev(tmp_path, "--fresh")
    assert dev.wait(timeout=60) == 2
    assert (tmp_path / "notes.txt").read_text() == "mine"
