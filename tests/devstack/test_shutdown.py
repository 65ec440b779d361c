"""Graceful shutdown of a real service process on SIGTERM: readiness goes false first, the
drain keeps serving, in-flight requests and messages finish, and the process exits 0.

Each test runs its own process on its own stream, subject prefix and database (on the
session's NATS and database servers), so nothing else consumes its messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import orjson
import pytest
from pymongo import AsyncMongoClient

from tests.support.waiting import eventually
from weft_cli.sample_messages import sample_community
from weft_cli.testing import ServiceProcess
from weft_shared.auth.tokens import issue_dev_token
from weft_shared.contracts.membership import CommunityCreated
from weft_shared.messaging.outbox import MessageFactory
from weft_shared.settings import PlatformSettings

EXIT_BOUND_SECONDS = 30.0  # generous: the default deadline; a clean stop takes a few seconds


def _isolated_env(service: str, **extra: str) -> dict[str, str]:
    run = secrets.token_hex(3)
    return {
        "WEFT_STREAM_NAME": f"SHUTDOWN_{run.upper()}",
        "WEFT_SUBJECT_PREFIX": f"sd{run}",
        f"WEFT_{service.upper()}_DATABASE": f"weft_shutdown_{service}_{run}",
        **extra,
    }


async def _exit_code(service: ServiceProcess) -> int:
    async def exited() -> tuple[int | None] | None:
        return None if service.alive else (service.returncode,)  # a tuple: exit code 0 is falsy

    (code,) = await eventually(exited, what=f"{service.name} to exit", timeout=EXIT_BOUND_SECONDS)
    assert isinstance(code, int)
    return code


def _log_messages(service: ServiceProcess) -> list[str]:
    messages = []
    for line in service.output(400).splitlines():
        try:
            messages.append(str(json.loads(line[line.index("{") :]).get("msg", "")))
        except ValueError:
            messages.append(line)
    return messages


@pytest.fixture
async def mongo(database: Any) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


async def test_an_in_flight_request_completes_after_sigterm_while_readiness_is_false(
    start_service: Any, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    env = _isolated_env("membership", WEFT_SHUTDOWN_DRAIN_SECONDS="2")
    service: ServiceProcess = start_service("membership", env=env)
    token = issue_dev_token(PlatformSettings(env="dev"), "ana", email="ana@example.org", name="Ana")
    body = orjson.dumps({"name": "Night shift nurses", "purpose": "Share practice", "tags": ["nursing"]})

    # A client that sends its body slowly: the request is in flight when SIGTERM comes.
    reader, writer = await asyncio.open_connection("127.0.0.1", service.port)
    head = (
        f"POST /v1/communities HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer.write(head + body[:10])
    await writer.drain()
    await asyncio.sleep(0.3)  # the headers are in: the server has started the request
    os.kill(service.pid, signal.SIGTERM)

    async with httpx.AsyncClient(base_url=service.url, timeout=5) as http:

        async def not_ready() -> httpx.Response | None:
            response = await http.get("/readyz")
            return response if response.status_code == 503 else None

        during_drain = await eventually(not_ready, what="/readyz to answer 503", timeout=5)
        assert during_drain.json()["status"] == "shutting down"

    async def refused() -> bool:
        try:
            _, probe = await asyncio.open_connection("127.0.0.1", service.port)
        except ConnectionRefusedError:
            return True
        probe.close()
        return False

    assert await eventually(refused, what="new connections to be refused after the drain", timeout=15)

    writer.write(body[10:])
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 15)
    assert status_line.startswith(b"HTTP/1.1 201"), status_line
    writer.close()

    assert await _exit_code(service) == 0, service.output(80)
    messages = _log_messages(service)
    assert any("finishing 1 in-flight request(s)" in m for m in messages), messages[-30:]
    assert any("1 in-flight request(s) drained, 0 cut off" in m for m in messages), messages[-30:]
    assert any("outbox relay stopped after a last flush" in m for m in messages), messages[-30:]
    # The request's change committed: the community is in the database.
    db = mongo[env["WEFT_MEMBERSHIP_DATABASE"]]
    assert await db.communities.count_documents({"name": "Night shift nurses"}) == 1


def _community_created(platform: PlatformSettings) -> tuple[str, Any]:
    community_id = f"c{secrets.token_hex(4)}"
    snapshot = sample_community(community_id, "Falls prevention")
    announced = MessageFactory(platform, "/weft/shutdown-test").announcement(
        CommunityCreated(community=snapshot, created_by="ana"), community_id=community_id
    )
    return community_id, announced


@dataclass
class StoppedMidMessage:
    service: ServiceProcess
    env: dict[str, str]
    community_id: str
    message_id: str
    exit_code: int | None
    consumer: Any  # the durable's info after the exit


async def _sigterm_mid_message(start_service: Any, platform_env: dict[str, str], **settings: str) -> StoppedMidMessage:
    """An isolated events service takes one `community.created` (the test hook holds its
    transaction open), is sent SIGTERM while it is handling it, and has exited."""
    env = _isolated_env("events", **settings)
    service: ServiceProcess = start_service("events", env=env)
    platform = PlatformSettings(
        env="dev", stream_name=env["WEFT_STREAM_NAME"], subject_prefix=env["WEFT_SUBJECT_PREFIX"]
    )
    community_id, announced = _community_created(platform)
    nc = await nats.connect(platform_env["WEFT_NATS_URL"])
    try:
        js = nc.jetstream()
        await js.publish(announced.subject, orjson.dumps(announced.body), headers={"Nats-Msg-Id": announced.id})

        async def being_handled() -> bool:
            info = await js.consumer_info(platform.stream_name, "events")
            return bool(info.num_ack_pending == 1)

        assert await eventually(being_handled, what="the message to be taken by the consumer", timeout=15)
        os.kill(service.pid, signal.SIGTERM)
        exit_code = await _exit_code(service)
        consumer = await js.consumer_info(platform.stream_name, "events")
    finally:
        await nc.close()
    return StoppedMidMessage(service, env, community_id, announced.id, exit_code, consumer)


async def test_a_message_being_handled_at_sigterm_finishes_and_is_acked_once(
    start_service: Any, platform_env: dict[str, str], mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    # The test hook holds each message's transaction open for 3 s: SIGTERM lands mid-message.
    stopped = await _sigterm_mid_message(start_service, platform_env, WEFT_EVENTS_HANDLER_DELAY_SECONDS="3")
    assert stopped.exit_code == 0, stopped.service.output(80)
    info = stopped.consumer
    assert (info.num_ack_pending, info.num_pending, info.num_redelivered) == (0, 0, 0)
    assert info.delivered.stream_seq == 1

    db = mongo[stopped.env["WEFT_EVENTS_DATABASE"]]
    assert await db.processed_messages.count_documents({"_id": stopped.message_id}) == 1
    assert await db.membership_communities.count_documents({"_id": stopped.community_id}) == 1
    messages = _log_messages(stopped.service)
    assert any("consumer 'events' stopped (1 message(s) handled)" in m for m in messages), messages[-30:]


async def test_an_open_event_stream_through_the_gateway_ends_when_the_gateway_stops(
    start_service: Any, notifications_service: ServiceProcess
) -> None:
    gateway: ServiceProcess = start_service(
        "gateway", env={"WEFT_GATEWAY_NOTIFICATIONS_URL": notifications_service.url}
    )
    token = issue_dev_token(PlatformSettings(env="dev"), f"p{secrets.token_hex(4)}", email="p@example.org", name="P")
    async with (
        httpx.AsyncClient(base_url=gateway.url, timeout=httpx.Timeout(5, read=EXIT_BOUND_SECONDS)) as http,
        http.stream("GET", "/v1/me/stream", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        assert response.status_code == 200
        chunks = response.aiter_raw()
        assert (await anext(chunks)).startswith(b"retry:")
        os.kill(gateway.pid, signal.SIGTERM)
        async for _ in chunks:  # the stream ends (without the gateway's hard deadline)
            pass
    assert await _exit_code(gateway) == 0, gateway.output(80)
    messages = _log_messages(gateway)
    assert any("1 in-flight request(s) drained, 0 cut off" in m for m in messages), messages[-30:]
    assert not any("timeout graceful shutdown exceeded" in m for m in messages), messages[-30:]
    assert notifications_service.alive  # only the gateway stopped


async def test_a_message_cut_off_by_the_hard_deadline_is_left_unacknowledged(
    start_service: Any, platform_env: dict[str, str], mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    # The message takes longer than the whole shutdown may: the process exits 1 at the deadline,
    # and the message, never acknowledged, stays for redelivery (its transaction never committed).
    stopped = await _sigterm_mid_message(
        start_service, platform_env, WEFT_EVENTS_HANDLER_DELAY_SECONDS="60", WEFT_SHUTDOWN_DEADLINE_SECONDS="2"
    )
    assert stopped.exit_code == 1, stopped.service.output(80)
    assert (stopped.consumer.num_ack_pending, stopped.consumer.num_pending) == (1, 0)  # delivered, not acked
    db = mongo[stopped.env["WEFT_EVENTS_DATABASE"]]
    assert await db.processed_messages.count_documents({"_id": stopped.message_id}) == 0
    assert await db.membership_communities.count_documents({"_id": stopped.community_id}) == 0
