"""Notification fan-out: one `event.scheduled` to a 10,000-member community, from the
publish to all 10,000 inbox items and unread counters written (target: ≤ 3 s).

A `weft notifications` process of the scenario's own (its own stream, subject prefix,
database and durable consumer, so nothing else the bench does reaches it) is fed the way
membership feeds it: a `community.created` and 10,000 `member.joined` messages published
to NATS as CloudEvents envelopes (`MessageFactory`), handled one transaction each (that
seeding rate is printed too). Then one `event.scheduled` (a community-only event, so its
audience is the 10,000 members); the clock stops when the message's processed record is
committed, which is the same transaction as every item and counter it wrote, and the
items and counters are then counted to check it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import nats
import orjson
from harness.runner import Harness, Outcome
from pymongo import AsyncMongoClient

from weft_cli.procs import free_port
from weft_cli.sample_messages import sample_community, sample_occurrence
from weft_cli.testing import ServiceProcess, clean_base_env
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.events import EventScheduled
from weft_shared.contracts.membership import CommunityCreated, MemberJoined
from weft_shared.messaging.outbox import MessageFactory
from weft_shared.settings import PlatformSettings

NAME = "notification_fanout"
TITLE = "notification fan-out to 10,000 members"
BASELINE = False
MEMBERS = 10_000
TARGET_SECONDS = 3.0
SEED_TIMEOUT = 600.0
FANOUT_TIMEOUT = 120.0
Doc = dict[str, Any]


async def publish(js: Any, factory: MessageFactory, stream: str, messages: list[tuple[MessagePayload, str]]) -> str:
    """Publish in order, acks awaited in groups; returns the last message's id."""
    pending: list[Any] = []
    last = ""
    for payload, community_id in messages:
        announcement = factory.announcement(payload, community_id=community_id)
        last = announcement.id
        pending.append(js.publish(announcement.subject, orjson.dumps(announcement.body), stream=stream))
        if len(pending) == 500:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    return last


async def wait_until(check: Any, timeout: float, poll: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await check():
            return True
        await asyncio.sleep(poll)
    return False


async def run(h: Harness) -> Outcome:
    run_id = secrets.token_hex(3)
    platform = PlatformSettings(
        env="dev",
        nats_url=h.stack.nats.url,
        mongodb_url=h.stack.database.url,
        stream_name=f"BENCH_FANOUT_{run_id.upper()}",
        subject_prefix=f"bf{run_id}",
    )
    database = f"weft_notifications_bench_{run_id}"
    env = {
        **clean_base_env(),
        **h.stack.service_env,
        "WEFT_STREAM_NAME": platform.stream_name,
        "WEFT_SUBJECT_PREFIX": platform.subject_prefix,
        "WEFT_NOTIFICATIONS_DATABASE": database,
    }
    service = ServiceProcess("notifications", env, free_port()).start()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(h.stack.database.url, tz_aware=True)
    nc = await nats.connect(h.stack.nats.url, name="weft-bench-fanout")
    details: list[str] = []
    try:
        db = client[database]
        js = nc.jetstream()
        membership = MessageFactory(platform, "/weft/membership")
        cid = f"bench-{run_id}"
        members = [f"fan-{run_id}-{n:05}" for n in range(MEMBERS)]
        founded = CommunityCreated(community=sample_community(cid), created_by="owner")
        seeds: list[tuple[MessagePayload, str]] = [(founded, cid)]
        seeds += [
            (
                MemberJoined(
                    community_id=cid,
                    user_id=user_id,
                    role="member",
                    via="open",
                    display_name=None,
                    community_visibility="public",
                ),
                cid,
            )
            for user_id in members
        ]
        started = time.perf_counter()
        await publish(js, membership, platform.stream_name, seeds)

        async def seeded() -> bool:
            return await db.view_members.count_documents({"community_id": cid, "active": True}) >= MEMBERS

        if not await wait_until(seeded, SEED_TIMEOUT, 0.5):
            raise RuntimeError(f"the read model did not reach {MEMBERS} members in {SEED_TIMEOUT:.0f} s")
        seeding = time.perf_counter() - started
        h.log(f"seeded {MEMBERS:,} members through member.joined in {seeding:.1f} s")

        message = EventScheduled(event=sample_occurrence(f"ev-{run_id}", cid), scheduled_by="owner")
        events = MessageFactory(platform, "/weft/events")
        published_at = datetime.now(UTC)
        started = time.perf_counter()
        key = await publish(js, events, platform.stream_name, [(message, cid)])

        async def committed() -> bool:
            return await db.processed_messages.find_one({"_id": key}, projection={"_id": 1}) is not None

        if not await wait_until(committed, FANOUT_TIMEOUT, 0.01):
            raise RuntimeError(f"the fan-out did not commit in {FANOUT_TIMEOUT:.0f} s")
        fanout = time.perf_counter() - started
        # The processed record is written first in the handler's transaction: its `at` splits
        # the time into waiting for the consumer to fetch the message and the transaction itself.
        record = await db.processed_messages.find_one({"_id": key})
        fetched = (record["at"] - published_at).total_seconds() if record else float("nan")

        items = await db.inbox.count_documents({"key": key})
        counted = await db.inbox_counters.count_documents({"_id": {"$in": members}, "unread": 1})
        met = "met" if fanout <= TARGET_SECONDS and items == counted == MEMBERS else "NOT met"
        details += [
            f"publish -> {items:,} inbox items and {counted:,} unread counters committed: {fanout:.2f} s "
            f"(target <= {TARGET_SECONDS:.0f} s: {met}); {items / fanout:,.0f} items/s",
            f"of which the consumer fetching the message: {fetched:.2f} s; the handler's transaction "
            f"(read the members, route, write items and counters, commit): {fanout - fetched:.2f} s",
            f"seeding: {MEMBERS:,} member.joined handled in {seeding:.1f} s ({MEMBERS / seeding:,.0f} messages/s, "
            "one transaction each)",
            f"database: {h.stack.database_line}",
        ]
    finally:
        await nc.close()
        service.stop()
        await client.drop_database(database)
        await client.close()
    return Outcome(NAME, TITLE, details=details)
