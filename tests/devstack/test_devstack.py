"""`weft dev` with infrastructure only: it starts, keeps data, and leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import socket
from pathlib import Path
from typing import Any

import httpx
from pymongo import MongoClient

from weft_cli.procs import ManagedProcess, free_port, pid_alive, port_accepts, wait_until
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env
from weft_shared.auth.tokens import issue_dev_token
from weft_shared.settings import PlatformSettings

RUNNING = r"Weft is running"


def start_dev(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> ManagedProcess:
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
    return ManagedProcess("weft-dev", argv, env={**clean_base_env(), "NO_COLOR": "1", **(env or {})})


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


def test_dev_restarts_nats_when_it_dies_and_keeps_running(tmp_path: Path) -> None:
    dev = start_dev(tmp_path / "data")
    try:
        dev.wait_for_output(RUNNING, timeout=90)
        ready = dev.wait_for_output(r"nats-server ready at (\S+) \(pid (\d+)")
        nats_url, nats_pid = ready.group(1), int(ready.group(2))
        os.kill(nats_pid, signal.SIGKILL)
        dev.wait_for_output(
            r"nats-server \(pid \d+\) was killed by SIGKILL after [0-9.]+ (s|min [0-9]+ s) up; restarting it in 1 s"
        )
        # Only what it printed in its last minute, each line with its time.
        dev.wait_for_output(
            r"--- (last output of nats-server, from|nats-server printed nothing in) the 60 s"
            r" before it died at \d\d:\d\d:\d\d"
        )
        new_pid = int(dev.wait_for_output(r"nats-server is back \(pid (\d+)\)").group(1))
        assert dev.alive() and new_pid != nats_pid and pid_alive(new_pid)
        assert port_accepts("127.0.0.1", int(nats_url.rsplit(":", 1)[1]))  # back on the same port
        pids = started_pids(dev)
    finally:
        code = interrupt(dev)
    assert code == 0
    assert not any(pid_alive(pid) for pid in pids)


def test_children_die_with_the_runner_and_one_runner_holds_a_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_dev(data_dir)
    try:
        first.wait_for_output(RUNNING, timeout=90)
        pids = started_pids(first)
        second = start_dev(data_dir)
        assert second.wait(timeout=60) == 2
        second.finish_reading()
        assert f"in use by another weft dev: pid {first.pid} (" in second.tail(20)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        wait_until(lambda: not any(pid_alive(pid) for pid in pids), timeout=30, what="the children to die")
    finally:
        first.stop()
    third = start_dev(data_dir)
    try:
        third.wait_for_output(RUNNING, timeout=90)
    finally:
        assert interrupt(third) == 0


def test_dev_stops_before_starting_when_a_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        dev = start_dev(tmp_path / "data", env={"WEFT_DEV_NATS_PORT": str(port)})
        assert dev.wait(timeout=60) == 2
    dev.finish_reading()
    output = dev.tail(30)
    assert f"port {port} for nats-server (WEFT_DEV_NATS_PORT={port}) is taken by pid {os.getpid()} (" in output
    assert "starting nats-server" not in output


def test_dev_fresh_refuses_to_wipe_a_folder_that_is_not_its_own(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    dev = start_dev(tmp_path, "--fresh")
    assert dev.wait(timeout=60) == 2
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_dev_suite_on_the_given_gateway_port_restarts_a_killed_service(tmp_path: Path) -> None:
    gateway_port = free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    dev = start_dev(tmp_path / "data", "--services", "all", env={"WEFT_HTTP_PORT": str(gateway_port)})
    token = issue_dev_token(PlatformSettings(env="dev"), "ana")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        dev.wait_for_output(RUNNING, timeout=180)
        dev.wait_for_output(rf"gateway ready at {gateway}$")
        # Calendar feeds link to the gateway the runner started, not to 8080.
        feed = httpx.post(f"{gateway}/v1/me/calendar-feed", headers=headers, timeout=30)
        assert feed.status_code == 201
        assert feed.json()["url"].startswith(f"{gateway}/v1/calendar/")
        assert httpx.get(feed.json()["url"], timeout=30).status_code == 200

        membership_pid = int(dev.wait_for_output(r"membership started \(pid (\d+)\)").group(1))
        os.kill(membership_pid, signal.SIGKILL)
        dev.wait_for_output(
            r"membership \(pid \d+\) was killed by SIGKILL after [0-9.]+ (s|min [0-9]+ s) up; restarting it in 1 s"
        )
        dev.wait_for_output(r"membership is back \(pid \d+\)", timeout=90)
        assert httpx.get(f"{gateway}/v1/communities", headers=headers, timeout=30).status_code == 200
        pids = started_pids(dev)
    finally:
        code = interrupt(dev)
    assert code == 0
    assert not any(pid_alive(pid) for pid in pids)
