"""The transactional outbox and its relay on a real nats-server and a real database:
messages commit with the write, go out in commit order per aggregate, and a
leftover is published exactly once however it was left behind."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.bus import BusMessage, stream_messages
from tests.support.isolated import isolated
from weft_cli.procs import ManagedProcess, free_port, port_accepts, wait_until
from weft_shared.contracts.membership import MemberJoined
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.settings import PlatformSettings
from weft_shared.storage.client import MongoLifecycle, TransactionsUnavailable
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork


@dataclass
class Rig:
    platform: PlatformSettings
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    outbox: Outbox
    broker: NatsBroker

    def relay(self, broker: NatsBroker | None = None, **options: Any) -> OutboxRelay:
        options.setdefault("grace", timedelta(0))
        return OutboxRelay(broker or self.broker, self.platform, self.outbox, **options)

    def uow(self, relay: OutboxRelay | None) -> UnitOfWork:
        return UnitOfWork(self.client, self.outbox, MessageFactory(self.platform, "/test"), relay)

    async def on_bus(self) -> list[BusMessage]:
        return await stream_messages(
            self.platform.nats_url, f"{self.platform.subject_prefix}.>", stream=self.platform.stream_name
        )


@pytest.fixture
async def rig(nats_server, database) -> AsyncIterator[Rig]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "outbox") as env:
        outbox = Outbox(env.db)
        await outbox.create_indexes()
        await env.db.create_collection("counters")
        broker = create_broker(env.platform, client_name="test-outbox")
        await broker.connect()
        try:
            yield Rig(env.platform, env.client, env.db, outbox, broker)
        finally:
            await broker.stop()


def joined(user_id: str) -> MemberJoined:
    return MemberJoined(community_id="c1", user_id=user_id, role="member", via="open", community_visibility="public")


async def bump_and_announce(uow: UnitOfWork, db: AsyncDatabase[dict[str, Any]], user_id: str) -> int:
    """A use case in miniature: change the aggregate and announce it, in one transaction."""

    async def work(tx: Transaction) -> int:
        doc = await db.counters.find_one_and_update(
            {"_id": "c1"}, {"$inc": {"n": 1}}, upsert=True, return_document=True, session=tx.session
        )
        tx.announce(joined(f"{user_id}-{doc['n']}"), aggregate="counters/c1", community_id="c1")
        return int(doc["n"])

    return await uow.run(work)


async def test_concurrent_writers_publish_in_commit_order_with_versions(rig: Rig) -> None:
    uow = rig.uow(rig.relay())
    results = await asyncio.gather(*(bump_and_announce(uow, rig.db, f"u{i}") for i in range(30)))

    assert sorted(results) == list(range(1, 31))  # every writer committed once, none lost
    messages = await rig.on_bus()
    versions = [m.body["aggregateversion"] for m in messages]
    assert versions == list(range(1, 31))  # on the stream in commit order, no gaps, no copies
    # The n-th commit (counter value n) carries version n: versions follow commit order.
    assert [m.body["data"]["user_id"].rsplit("-", 1)[1] for m in messages] == [str(v) for v in versions]
    assert {m.body["aggregate"] for m in messages} == {"counters/c1"}
    assert all(m.headers["Nats-Msg-Id"] == m.body["id"] for m in messages)
    assert await rig.outbox.pending_count() == 0


async def test_an_aborted_transaction_leaves_no_message(rig: Rig) -> None:
    uow = rig.uow(rig.relay())

    async def fails_after_announcing(tx: Transaction) -> None:
        await rig.db.counters.insert_one({"_id": "x"}, session=tx.session)
        tx.announce(joined("never"), aggregate="counters/x", community_id="c1")
        raise RuntimeError("the use case refuses after all")

    with pytest.raises(RuntimeError):
        await uow.run(fails_after_announcing)
    assert await rig.db.counters.count_documents({}) == 0
    assert await rig.outbox.pending_count() == 0
    assert await rig.on_bus() == []


async def test_a_later_version_waits_for_an_earlier_leftover_then_both_go_in_order(rig: Rig) -> None:
    # Version 1 commits but its publish fails (NATS unreachable from that process).
    dead = create_broker(rig.platform, client_name="never-connected")
    await bump_and_announce(rig.uow(rig.relay(dead, publish_timeout=0.5)), rig.db, "first")
    assert await rig.outbox.pending_count() == 1
    # Version 2 commits in a healthy process: it must not overtake version 1.
    healthy = rig.relay()
    await bump_and_announce(rig.uow(healthy), rig.db, "second")
    assert await rig.on_bus() == []
    assert await rig.outbox.pending_count() == 2

    assert await healthy.sweep() == 2
    messages = await rig.on_bus()
    assert [m.body["aggregateversion"] for m in messages] == [1, 2]
    assert [m.body["data"]["user_id"] for m in messages] == ["first-1", "second-2"]
    assert await healthy.sweep() == 0
    assert len(await rig.on_bus()) == 2


async def test_a_leftover_of_another_process_is_published_soon_through_the_change_stream(rig: Rig) -> None:
    # A relay whose timer would not fire during this test: only the change stream can wake it.
    watching = rig.relay(sweep_interval=3600, grace=timedelta(seconds=0.5))
    watching.start()
    try:
        await asyncio.sleep(1.0)  # the first (immediate) sweep is done; the stream is open
        await bump_and_announce(rig.uow(None), rig.db, "crashed")  # committed, never handed to a relay
        deadline = time.monotonic() + 15
        while not await rig.on_bus():
            assert time.monotonic() < deadline, "the watching relay never published the leftover"
            await asyncio.sleep(0.2)
    finally:
        await watching.stop()
    [message] = await rig.on_bus()
    assert message.body["data"]["user_id"] == "crashed-1"
    assert await rig.outbox.pending_count() == 0


async def test_a_standalone_server_is_refused_with_advice(tmp_path: Path) -> None:
    # SecantusDB's Python server can advertise itself as a standalone mongod would.
    port = free_port()
    server = Path(sys.executable).with_name("secantusd-py")
    argv = [server, "--host", "127.0.0.1", "--port", str(port), "--storage-path", tmp_path, "--standalone"]
    standalone = ManagedProcess("standalone", argv)
    try:
        wait_until(lambda: port_accepts("127.0.0.1", port), timeout=30, what="standalone server", process=standalone)
        mongo = MongoLifecycle(f"mongodb://127.0.0.1:{port}/", "weft_refused", app_name="test")
        try:
            with pytest.raises(TransactionsUnavailable, match="replica set") as refused:
                await mongo.require_transactions()
            assert "--replSet" in str(refused.value)
        finally:
            await mongo.close()
    finally:
        standalone.stop()


async def test_writers_of_one_hot_aggregate_queue_in_this_process_and_all_commit(rig: Rig) -> None:
    uow = rig.uow(rig.relay())
    inside, most = 0, 0

    async def bump(tx: Transaction) -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            await rig.db.counters.update_one({"_id": "hot"}, {"$inc": {"n": 1}}, upsert=True, session=tx.session)
            await asyncio.sleep(0.01)  # a transaction that takes a moment: others would overlap it
            tx.announce(joined("queued"), aggregate="counters/hot", community_id="c1")
        finally:
            inside -= 1

    await asyncio.gather(*(uow.run(bump, one_at_a_time="counters/hot") for _ in range(20)))

    assert most == 1  # one at a time, so none of them conflicted and retried
    assert (await rig.db.counters.find_one({"_id": "hot"}) or {})["n"] == 20
    assert [m.body["aggregateversion"] for m in await rig.on_bus()] == list(range(1, 21))
