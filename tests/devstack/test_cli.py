"""`weft token` and `weft tail`, run as a user would run them."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import uuid
from pathlib import Path

import nats
import pytest
from nats.js.api import StreamConfig

from weft_cli.natsserver import NatsHandle, start_nats
from weft_cli.procs import ManagedProcess, free_port
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env
from weft_shared.auth.admins import NetworkAdmins
from weft_shared.auth.tokens import TokenVerifier
from weft_shared.settings import PlatformSettings


def cloud_event(subject: str) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "/weft/devstack-tests",
        "type": "org.weft.test.pinged.v1",
        "subject": subject,
        "time": "2026-01-01T00:00:00Z",
        "datacontenttype": "application/json",
        "data": {"community_id": "c1", "note": "hello"},
    }


async def test_token_is_accepted_by_the_dev_verifier() -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [
            *weft_command(),
            "token",
            "alice",
            "--email",
            "alice@example.org",
            "--name",
            "Alice",
            "--ttl",
            "600",
        ],
        env=clean_base_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    token = result.stdout.strip()

    principal = await TokenVerifier(PlatformSettings(env="dev")).verify(token)

    assert (principal.sub, principal.email, principal.name) == (
        "alice",
        "alice@example.org",
        "Alice",
    )


async def test_tail_prints_live_messages(nats_server: NatsHandle) -> None:
    prefix = f"tail{secrets.token_hex(3)}"
    env = {
        **clean_base_env(),
        "WEFT_NATS_URL": nats_server.url,
        "WEFT_SUBJECT_PREFIX": prefix,
    }
    tail = ManagedProcess("weft-tail", [*weft_command(), "tail"], env=env)
    try:
        await asyncio.to_thread(tail.wait_for_output, rf"listening on {prefix}\.>")
        event = cloud_event("c1")
        nc = await nats.connect(nats_server.url)
        await nc.publish(f"{prefix}.test.pinged.c1", json.dumps(event, indent=2).encode())
        await nc.publish("elsewhere.test.pinged.c1", b"{}")  # outside the prefix: not shown
        await nc.close()

        line = await asyncio.to_thread(tail.wait_for_output, rf"^{prefix}\.test\.pinged\.c1 ")
        subject, body = line.string.split(" ", 1)
        assert subject == f"{prefix}.test.pinged.c1"
        assert json.loads(body) == event
        assert "\n" not in body and ", " not in body  # compact, one line
    finally:
        code = tail.stop()
    assert code == 0
    assert "elsewhere" not in tail.tail(200)


async def test_tail_replay_starts_from_the_beginning_of_the_stream(
    nats_server: NatsHandle,
) -> None:
    prefix = f"replay{secrets.token_hex(3)}"
    stream = prefix.upper()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))
    for n in (1, 2):
        await js.publish(f"{prefix}.test.pinged.c{n}", json.dumps(cloud_event(f"c{n}")).encode())
    env = {
        **clean_base_env(),
        "WEFT_NATS_URL": nats_server.url,
        "WEFT_SUBJECT_PREFIX": prefix,
        "WEFT_STREAM_NAME": stream,
    }
    tail = ManagedProcess("weft-tail", [*weft_command(), "tail", "--replay"], env=env)
    try:
        await asyncio.to_thread(tail.wait_for_output, rf"^{prefix}\.test\.pinged\.c2 ")
        lines = [line for line in tail.tail(200).splitlines() if line.startswith(prefix)]
        assert [line.split(" ", 1)[0] for line in lines] == [
            f"{prefix}.test.pinged.c1",
            f"{prefix}.test.pinged.c2",
        ]
    finally:
        assert tail.stop() == 0
        await js.delete_stream(stream)
        await nc.close()


def test_tail_replay_says_when_the_stream_is_missing(nats_server: NatsHandle) -> None:
    env = {
        **clean_base_env(),
        "WEFT_NATS_URL": nats_server.url,
        "WEFT_STREAM_NAME": "NO_SUCH_STREAM",
    }
    result = subprocess.run(
        [*weft_command(), "tail", "--replay"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "NO_SUCH_STREAM" in result.stderr


def test_tail_fails_fast_when_nats_is_not_there() -> None:
    unused = f"nats://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [*weft_command(), "tail", "--url", unused], env=clean_base_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert f"cannot reach NATS at {unused}" in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
async def test_tail_stops_quietly_when_told_to(nats_server: NatsHandle, sig: signal.Signals) -> None:
    env = {**clean_base_env(), "WEFT_NATS_URL": nats_server.url}
    tail = ManagedProcess("weft-tail", [*weft_command(), "tail"], env=env)
    try:
        await asyncio.to_thread(tail.wait_for_output, r"listening on ")
        tail.send_signal(sig)
        code = await asyncio.to_thread(tail.wait, 30)
    finally:
        tail.stop()
    assert code == 0
    assert "connection lost" not in tail.tail(200)
    assert "reconnecting" not in tail.tail(200)


async def test_tail_resumes_after_a_nats_restart_without_skipping_or_repeating(tmp_path: Path) -> None:
    """kill -9 of nats-server, then a message published before tail has reconnected: tail shows
    it (it is in the stream) and shows what came before it only once."""
    server = start_nats(tmp_path / "nats")
    prefix = f"resume{secrets.token_hex(3)}"
    stream = prefix.upper()
    env = {**clean_base_env(), "WEFT_NATS_URL": server.url, "WEFT_SUBJECT_PREFIX": prefix, "WEFT_STREAM_NAME": stream}

    async def publish(n: int) -> None:
        nc = await nats.connect(server.url)
        await nc.jetstream().publish(f"{prefix}.test.pinged.c{n}", json.dumps(cloud_event(f"c{n}")).encode())
        await nc.close()

    tail: ManagedProcess | None = None
    try:
        nc = await nats.connect(server.url)
        await nc.jetstream().add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))
        await nc.close()
        await publish(0)  # before tail starts: live mode does not show it
        tail = ManagedProcess("weft-tail", [*weft_command(), "tail"], env=env)
        await asyncio.to_thread(tail.wait_for_output, rf"listening on {prefix}\.> \(stream {stream} from sequence 2\)")
        await publish(1)
        await asyncio.to_thread(tail.wait_for_output, rf"^{prefix}\.test\.pinged\.c1 ")

        server.kill()  # kill -9: its ephemeral consumers are gone with it
        await asyncio.to_thread(tail.wait_for_output, r"connection lost")
        await asyncio.to_thread(server.start)  # same port, same store: the stream is still there
        await publish(2)  # most likely before tail has noticed the server is back
        await asyncio.to_thread(tail.wait_for_output, r"resumed stream")
        await publish(3)
        await asyncio.to_thread(tail.wait_for_output, rf"^{prefix}\.test\.pinged\.c3 ")
    finally:
        if tail is not None:
            tail.stop()
        server.stop()
    assert tail is not None
    shown = [line.split(" ", 1)[0] for line in tail.tail(200).splitlines() if line.startswith(prefix)]
    assert shown == [f"{prefix}.test.pinged.c{n}" for n in (1, 2, 3)], tail.tail(200)


async def test_token_with_a_role_makes_a_network_admin() -> None:
    result = await asyncio.to_thread(
        subprocess.run,
        [*weft_command(), "token", "root", "--role", "weft-admin"],
        env=clean_base_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    principal = await TokenVerifier(PlatformSettings(env="dev")).verify(result.stdout.strip())
    assert NetworkAdmins().includes(principal)
    assert not NetworkAdmins().includes(await TokenVerifier(PlatformSettings(env="dev")).verify(_plain_token()))


def _plain_token() -> str:
    return subprocess.run(
        [*weft_command(), "token", "someone"], env=clean_base_env(), capture_output=True, text=True, check=True
    ).stdout.strip()


def test_weft_tail_finds_the_nats_of_the_running_dev_stack(tmp_path: Path) -> None:
    """`make run ARGS=--random-ports` puts NATS on a random port; `weft dev` writes it down."""
    from weft_cli.devstack import NATS_URL_FILE, running_nats_url

    assert running_nats_url(tmp_path) is None
    (tmp_path / NATS_URL_FILE).write_text("nats://127.0.0.1:48787\n")
    assert running_nats_url(tmp_path) == "nats://127.0.0.1:48787"
