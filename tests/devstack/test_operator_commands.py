"""`weft dlq`, `weft outbox status` and `weft status`, run as an operator runs them, against a
real events service on a stream, subject prefix and database of this test's own.

The poison message is a real failure an operator can fix: a stray document and a unique
index in the service's read model make the consumer's upsert fail (DuplicateKeyError) on
every delivery until the consumer gives up and dead-letters it. Deleting the stray document
fixes the cause; the replay is then handled once.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import orjson
import pytest
from nats.js import JetStreamContext
from pymongo import AsyncMongoClient
from typer.testing import CliRunner

from tests.support.waiting import eventually
from weft_cli.cli import app
from weft_cli.sample_messages import sample_community
from weft_cli.services import weft_command
from weft_cli.testing import ServiceProcess, clean_base_env
from weft_shared.contracts.membership import CommunityCreated
from weft_shared.messaging.outbox import Announcement, MessageFactory, Outbox
from weft_shared.settings import PlatformSettings

Doc = dict[str, Any]
# Six failed deliveries with the consumer's back-off (0.5 s doubling) take about 16 s.
DEAD_LETTER_WITHIN = 40.0


def _community(name: str) -> CommunityCreated:
    community_id = f"c{secrets.token_hex(4)}"
    return CommunityCreated(community=sample_community(community_id, name), created_by="ana")


async def _weft_console(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `weft` command, as an operator types it."""
    return await asyncio.to_thread(
        subprocess.run,
        [*weft_command(), *args],
        env={**clean_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Ran:
    returncode: int
    stdout: str


async def _weft(env: dict[str, str], *args: str) -> Ran:
    """The same command in this process (each `weft` start costs seconds on a busy machine).
    In a thread: the commands run their own event loop."""
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.output)


async def _publish(js: JetStreamContext, announced: Announcement) -> None:
    await js.publish(announced.subject, orjson.dumps(announced.body), headers={"Nats-Msg-Id": announced.id})


@pytest.fixture
async def mongo(database: Any) -> AsyncIterator[AsyncMongoClient[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


async def test_dead_letter_list_show_replay_outbox_status_and_lag(
    start_service: Any, platform_env: dict[str, str], mongo: AsyncMongoClient[Doc]
) -> None:
    run = secrets.token_hex(3)
    env = {
        "WEFT_NATS_URL": platform_env["WEFT_NATS_URL"],
        "MONGODB_URL": platform_env["MONGODB_URL"],
        "WEFT_STREAM_NAME": f"OPS_{run.upper()}",
        "WEFT_SUBJECT_PREFIX": f"ops{run}",
        "WEFT_EVENTS_DATABASE": f"weft_ops_events_{run}",
        "WEFT_MEMBERSHIP_DATABASE": f"weft_ops_membership_{run}",
        "WEFT_NOTIFICATIONS_DATABASE": f"weft_ops_notifications_{run}",
        "WEFT_RESOURCES_DATABASE": f"weft_ops_resources_{run}",
    }
    events: ServiceProcess = start_service("events", env=env)
    platform = PlatformSettings(
        env="dev", stream_name=env["WEFT_STREAM_NAME"], subject_prefix=env["WEFT_SUBJECT_PREFIX"]
    )
    factory = MessageFactory(platform, "/weft/operator-test")
    db = mongo[env["WEFT_EVENTS_DATABASE"]]

    # The cause: a stray read-model document that a unique index says no community may share.
    communities = db.membership_communities
    await communities.create_index("name", unique=True, name="stray_unique_name")
    await communities.insert_one({"_id": "stray", "name": "Poisoned"})

    poisoned_payload = _community("Poisoned")
    poisoned = factory.announcement(poisoned_payload, community_id=poisoned_payload.community.id)
    fine_payload = _community("Fine")
    fine = factory.announcement(fine_payload, community_id=fine_payload.community.id)
    nc = await nats.connect(env["WEFT_NATS_URL"])
    try:
        js = nc.jetstream()
        await _publish(js, poisoned)
        await _publish(js, fine)
        dlq_name = platform.stream_name + "_DLQ"

        async def dead_lettered() -> bool:
            return bool((await js.stream_info(dlq_name)).state.messages == 1)

        assert await eventually(dead_lettered, what="the poison message in the DLQ", timeout=DEAD_LETTER_WITHIN)

        listing = await _weft_console(env, "dlq", "list", "--service", "events", "--json")
        assert listing.returncode == 0, listing.stderr
        (entry,) = json.loads(listing.stdout)
        assert (entry["id"], entry["type"], entry["consumer"]) == (poisoned.id, CommunityCreated.message_type, "events")
        assert entry["subject"] == poisoned.subject
        assert entry["deliveries"] == "6"
        assert "DuplicateKeyError" in entry["error"]
        assert entry["time"] is not None
        table = await _weft(env, "dlq", "list")
        assert f"#{entry['seq']}  events  {CommunityCreated.message_type}  id={poisoned.id}" in table.stdout

        shown = await _weft(env, "dlq", "show", str(entry["seq"]))
        assert shown.returncode == 0, shown.stdout
        assert json.loads(shown.stdout)["envelope"]["id"] == poisoned.id
        missing = await _weft(env, "dlq", "show", "999")
        assert (missing.returncode, missing.stdout.strip()) == (1, f"no dead letter #999 in {dlq_name}")

        # Status: the consumer is caught up (the poison was acked into the DLQ), one dead letter.
        status = await _weft(env, "status", "--json", "--service", f"events={events.url}")
        assert status.returncode == 0, status.stdout
        found = json.loads(status.stdout)
        assert found["bus"]["dead_letters"] == 1
        (consumer,) = found["bus"]["consumers"]
        assert (consumer["durable"], consumer["pending"], consumer["lag"]) == ("events", 0, 0)

        fine_seq = await communities.find_one({"_id": fine_payload.community.id})
        assert fine_seq is not None

        # Fix the cause, look first, then replay.
        await communities.delete_one({"_id": "stray"})
        dry = await _weft(env, "dlq", "replay", str(entry["seq"]), "--dry-run")
        assert dry.returncode == 0 and "would replay" in dry.stdout, dry.stdout
        assert (await js.stream_info(dlq_name)).state.messages == 1
        replayed = await _weft(env, "dlq", "replay", "--all", "--service", "events")
        assert replayed.returncode == 0 and "replayed #" in replayed.stdout, replayed.stdout
        assert (await js.stream_info(dlq_name)).state.messages == 0
        again = await _weft(env, "dlq", "replay", str(entry["seq"]))
        assert again.returncode == 1, again.stdout  # the entry went after its PubAck: nothing doubles

        async def handled() -> Doc | None:
            return await communities.find_one({"name": "Poisoned"})

        assert await eventually(handled, what="the replayed message handled")
        assert await db.processed_messages.count_documents({"_id": poisoned.id}) == 1

        # A message already handled, published again (as a replay does, with a fresh Nats-Msg-Id):
        # the consumer acknowledges it and changes nothing (the stored sequence stays the first).
        await js.publish(fine.subject, orjson.dumps(fine.body), headers={"Nats-Msg-Id": f"{fine.id}:again"})

        async def caught_up() -> bool:
            info = await js.consumer_info(platform.stream_name, "events")
            return bool(info.num_pending == 0 and info.num_ack_pending == 0)

        assert await eventually(caught_up, what="the consumer to take the republished message")

        # Lag: stop the service, publish, and status shows it pending (and the service down: exit 1).
        assert events.stop() == 0
        for _ in range(3):
            extra = _community("Later")
            await _publish(js, factory.announcement(extra, community_id=extra.community.id))
        lagging = await _weft(env, "status", "--json", "--service", f"events={events.url}")
        assert lagging.returncode == 1, lagging.stdout
        found = json.loads(lagging.stdout)
        (consumer,) = found["bus"]["consumers"]
        assert consumer["pending"] == 3 and consumer["lag"] == 3, consumer
        assert found["services"][0]["ready"] is False
        text = await _weft(env, "status", "--service", f"events={events.url}")
        assert "events" in text.stdout and "NO" in text.stdout and "lag" in text.stdout, text.stdout
        # The republished message was handled before the stop without running the handler again.
        after = await communities.find_one({"_id": fine_payload.community.id})
        assert after is not None and after["seq"] == fine_seq["seq"]
        assert await db.processed_messages.count_documents({"_id": fine.id}) == 1
    finally:
        await nc.close()

    # Outbox status: a record committed but not published (no relay runs on this database).
    membership_db = mongo[env["WEFT_MEMBERSHIP_DATABASE"]]
    outbox = Outbox(membership_db)
    await outbox.create_indexes()
    pending_payload = _community("Pending")
    announcement = factory.announcement(pending_payload, community_id=pending_payload.community.id)
    async with mongo.start_session() as session, await session.start_transaction():
        await outbox.add(session, [(f"communities/{pending_payload.community.id}", announcement)])
    report = await _weft(env, "outbox", "status", "--json")
    assert report.returncode == 0, report.stdout
    rows = json.loads(report.stdout)
    assert rows["membership"]["pending"] == 1
    assert rows["membership"]["by_aggregate_type"] == {"communities": 1}
    assert rows["membership"]["oldest_age_seconds"] is not None
    assert rows["events"]["pending"] == 0
    table = await _weft(env, "outbox", "status")
    assert "membership" in table.stdout and "communities 1" in table.stdout, table.stdout
    for name in ("WEFT_EVENTS_DATABASE", "WEFT_MEMBERSHIP_DATABASE"):
        await mongo.drop_database(env[name])
