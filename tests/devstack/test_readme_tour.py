"""The README's tour, pasted as a newcomer pastes it, against a real `weft dev` stack.

The tour's shell blocks run as they are written, with two changes: the gateway's address
(the test stack uses free ports, not 8080) and `curl -s` failing on an error answer, so a
tour step that stopped working fails here instead of printing a problem nobody reads.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx

from weft_cli.procs import ManagedProcess
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env
from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]
TAIL_COMMAND = ".venv/bin/weft tail"


def tour_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A short tour", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.S | re.M)


def test_the_tour_is_copy_pasteable() -> None:
    """No placeholder is left for the reader to fill in by hand."""
    blocks = tour_blocks()
    assert blocks and blocks[0].strip() == TAIL_COMMAND
    assert not any(re.search(r"<[a-z ]+>", block) for block in blocks), blocks


def test_the_readme_tour_runs_against_a_running_stack(tmp_path: Path) -> None:
    dev = ManagedProcess(
        "weft-dev",
        [*weft_command(), "dev", "--random-ports", "--data-dir", str(tmp_path / "data")],
        env={**clean_base_env(), "NO_COLOR": "1"},
    )
    tail: ManagedProcess | None = None
    try:
        dev.wait_for_output(r"Weft is running", timeout=240)
        gateway = dev.wait_for_output(r"gateway ready at http://(\S+)$").group(1)
        nats_url = dev.wait_for_output(r"nats-server ready at (\S+) ").group(1)
        env = {**clean_base_env(), "WEFT_NATS_URL": nats_url}

        first, *tour = tour_blocks()
        tail = ManagedProcess("tail", ["bash", "-c", first], env=env, cwd=ROOT)
        tail.wait_for_output(r"listening on weft\.>")

        script = "\n".join(tour).replace("localhost:8080", gateway).replace("curl -s ", "curl -sS --fail-with-body ")
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        out = ran.stdout
        community = re.search(r"^community (\S+)$", out, re.M)
        event = re.search(r"^event (\S+)$", out, re.M)
        assert community and event, out
        assert '"ben"' in out and '"in_person"' in out, out
        assert f'"url":"http://{gateway}/v1/calendar/' in out.replace(" ", ""), out
        # Ben's inbox: the new meeting (one notice for the series) and his new role, both unread.
        # The tour shows it after a short pause; here it is awaited, however slow the machine.
        assert '"unread":' in out, out
        assert _ben_told(gateway) == {"event_scheduled", "role_changed"}
        # The library and the discussion: the anonymous question names nobody; search finds all three.
        assert '"author_label":"Anonymous member"' in out, out
        assert _ana_finds(gateway, "falls") >= {"resource:note", "resource:file", "thread:question"}

        # What the README says `weft tail` shows.
        community_id = community.group(1)
        tail.wait_for_output(rf"^weft\.community\.created\.v1\.{community_id} ")
        tail.wait_for_output(rf"^weft\.rsvp\.confirmed\.v1\.{community_id} ")
        joined = [line for line in tail.tail(200).splitlines() if line.startswith("weft.member.joined.v1.")]
        assert len(joined) == 2, tail.tail(200)
    finally:
        if tail is not None:
            tail.stop()
        dev.stop()


def _ana_finds(gateway: str, words: str) -> set[str]:
    """What a search by the community's owner finds (`type:kind`), once search has caught up."""
    headers = {"Authorization": f"Bearer {issue_dev_token(PlatformSettings(env='dev'), 'ana')}"}
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.get(f"http://{gateway}/v1/search", params={"q": words}, headers=headers, timeout=10)
        found = {f"{hit['type']}:{hit['kind']}" for hit in answer.json()["items"]}
        if len(found) >= 3 or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _ben_told(gateway: str) -> set[str]:
    headers = {"Authorization": f"Bearer {issue_dev_token(PlatformSettings(env='dev'), 'ben')}"}
    deadline = time.monotonic() + 60
    while True:
        answer = httpx.get(f"http://{gateway}/v1/me/notifications", headers=headers, timeout=10)
        told = {item["type"] for item in answer.json()["items"]}
        unread = httpx.get(f"http://{gateway}/v1/me/notifications/unread-count", headers=headers, timeout=10)
        if (len(told) >= 2 and unread.json()["unread"] == 2) or time.monotonic() > deadline:
            return told
        time.sleep(0.5)
