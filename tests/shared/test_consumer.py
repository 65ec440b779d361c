"""The idempotent-consumer helper on a real nats-server and a real database."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.bus import stream_messages
from tests.support.isolated import isolated
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import Envelope, wrap
from weft_shared.contracts.membership import MemberJoined
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.consumer import (
    REPLAY_FOR_HEADER,
    Delivery,
    MessageDispatcher,
    ProcessedMessages,
    envelope_bytes,
)
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork, current_session


@dataclass
class Harness:
    platform: PlatformSettings
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]

    @property
    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.client, Outbox(self.db), MessageFactory(self.platform, "/test"))

    async def publish(self, envelope: Envelope, *, msg_id: str, headers: dict[str, str] | None = None) -> None:
        broker = create_broker(self.platform, client_name="test-publisher")
        await broker.connect()
        try:
            subject = subject_for(self.platform.subject_prefix, MemberJoined, envelope.communityid)
            await broker.publish(
                envelope_bytes(envelope),
                subject,
                headers={"Nats-Msg-Id": msg_id, **(headers or {})},
                stream=self.platform.stream_name,
            )
        finally:
            await broker.stop()


@pytest.fixture
async def harness(nats_server, database) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "consumer") as env:
        await Outbox(env.db).create_indexes()
        yield Harness(env.platform, env.client, env.db)


def joined(community_id: str, user_id: str) -> MemberJoined:
    return MemberJoined(
        community_id=community_id,
        user_id=user_id,
        role="member",
        via="open",
        community_visibility="public",
    )


async def run_consumer(
    harness: Harness, handler_factory, *, until, max_deliver: int = 4, durable: str | None = None
) -> None:  # type: ignore[no-untyped-def]
    """Start a real pull consumer, wait for `until()` to hold, stop it."""
    broker = create_broker(harness.platform, client_name="test-consumer")
    dispatcher = MessageDispatcher(
        broker,
        harness.platform,
        ProcessedMessages(harness.db.processed_messages),
        harness.uow,
        max_deliver=max_deliver,
        base_delay=0.05,
    )
    dispatcher.on(MemberJoined)(handler_factory())
    consumer = dispatcher.subscribe(durable=durable or f"test_{secrets.token_hex(3)}")
    await broker.start()
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while not await until():
            assert time.monotonic() < deadline, "consumer did not get there in time"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # room for any (wrong) extra delivery to land
    finally:
        await consumer.stop()
        await broker.stop()


async def test_every_message_delivered_twice_has_one_effect(harness: Harness) -> None:
    envelopes = [wrap(joined("c1", f"user{i}"), source="/test", subject="c1", community_id="c1") for i in range(5)]
    for envelope in envelopes:
        # Different Nats-Msg-Ids defeat JetStream's dedupe: the stream really holds each twice,
        # like a redelivery after the two-minute window.
        await harness.publish(envelope, msg_id=envelope.id + "-a")
        await harness.publish(envelope, msg_id=envelope.id + "-b")
    effects = harness.db.effects
    calls: list[str] = []

    def factory():  # type: ignore[no-untyped-def]
        async def handle(envelope: Envelope, payload: MessagePayload, delivery: Delivery) -> None:
            calls.append(envelope.id)
            # Deliberately not idempotent by itself: $inc counts every run. It joins the
            # handler's transaction (as every use case called from a handler does).
            await effects.update_one(
                {"_id": payload.user_id},  # type: ignore[attr-defined]
                {"$inc": {"count": 1}},
                upsert=True,
                session=current_session(),
            )

        return handle

    async def all_processed() -> bool:
        return await harness.db.processed_messages.count_documents({}) == 5

    await run_consumer(harness, factory, until=all_processed)
    counts = {d["_id"]: d["count"] async for d in effects.find({})}
    assert counts == {f"user{i}": 1 for i in range(5)}
    # Concurrent deliveries of one message conflict on its processed record; the loser's
    # transaction is retried (running the handler again) and then finds it handled. So a
    # handler may run more than once, but only one run's effects ever commit.
    assert set(calls) == {e.id for e in envelopes}


async def test_a_failing_handler_is_retried_then_succeeds_once(
    harness: Harness,
) -> None:
    envelope = wrap(joined("c2", "flaky"), source="/test", subject="c2", community_id="c2")
    await harness.publish(envelope, msg_id=envelope.id)
    attempts: list[int] = []

    def factory():  # type: ignore[no-untyped-def]
        async def handle(envelope: Envelope, payload: MessagePayload, delivery: Delivery) -> None:
            attempts.append(1)
            await harness.db.effects.insert_one({"_id": f"{envelope.id}-{len(attempts)}"}, session=current_session())
            if len(attempts) < 3:
                raise ConnectionError("database briefly unavailable")

        return handle

    async def done() -> bool:
        return await harness.db.effects.count_documents({}) == 1

    await run_consumer(harness, factory, until=done)
    assert len(attempts) == 3
    # The failed attempts' writes were rolled back with their transactions.
    assert [d["_id"] async for d in harness.db.effects.find({})] == [f"{envelope.id}-3"]
    assert await harness.db.processed_messages.count_documents({}) == 1


async def test_a_message_that_keeps_failing_goes_to_the_dead_letter_stream(
    harness: Harness,
) -> None:
    envelope = wrap(joined("c3", "poison"), source="/test", subject="c3", community_id="c3")
    await harness.publish(envelope, msg_id=envelope.id)
    attempts: list[int] = []

    def factory():  # type: ignore[no-untyped-def]
        async def handle(envelope: Envelope, payload: MessagePayload, delivery: Delivery) -> None:
            attempts.append(1)
            raise RuntimeError("this message cannot be handled")

        return handle

    dlq_subject = f"{harness.platform.subject_prefix}_dlq.>"

    async def dead_lettered() -> bool:
        found = await stream_messages(
            harness.platform.nats_url,
            dlq_subject,
            stream=harness.platform.stream_name + "_DLQ",
        )
        return len(found) == 1

    await run_consumer(harness, factory, until=dead_lettered, max_deliver=3)
    assert len(attempts) == 3
    [dead] = await stream_messages(
        harness.platform.nats_url,
        dlq_subject,
        stream=harness.platform.stream_name + "_DLQ",
    )
    assert dead.body["id"] == envelope.id
    assert "cannot be handled" in dead.headers["Weft-Error"]


async def test_handled_ids_expire_by_a_ttl_index(harness: Harness) -> None:
    processed = ProcessedMessages(harness.db.processed_messages)
    await processed.create_indexes()
    indexes = {i["name"]: i async for i in await harness.db.processed_messages.list_indexes()}
    assert indexes["at_ttl"]["key"] == {"at": 1}
    assert indexes["at_ttl"]["expireAfterSeconds"] == 7 * 86400


async def test_an_effect_and_its_processed_record_commit_together(harness: Harness) -> None:
    """A crash mid-handler (here: an exception after the effect) leaves neither."""
    processed = ProcessedMessages(harness.db.processed_messages)

    async def handle_then_fail(tx: Transaction) -> None:
        await processed.record(tx, "m1", "t")
        await harness.db.effects.insert_one({"_id": "effect"}, session=tx.session)
        raise RuntimeError("the process dies here")

    with pytest.raises(RuntimeError):
        await harness.uow.run(handle_then_fail)
    assert await harness.db.effects.count_documents({}) == 0
    assert await harness.db.processed_messages.count_documents({}) == 0


async def test_a_replay_for_another_consumer_is_skipped_and_one_for_this_consumer_is_handled(
    harness: Harness,
) -> None:
    """`weft dlq replay` sends a dead letter again for the one durable that gave up on it."""
    theirs = wrap(joined("c1", "user-theirs"), source="/test", subject="c1", community_id="c1")
    ours = wrap(joined("c1", "user-ours"), source="/test", subject="c1", community_id="c1")
    await harness.publish(theirs, msg_id=theirs.id + ":replay:7", headers={REPLAY_FOR_HEADER: "someone_else"})
    await harness.publish(ours, msg_id=ours.id + ":replay:8", headers={REPLAY_FOR_HEADER: "test_replayed"})
    handled: list[str] = []

    def factory():  # type: ignore[no-untyped-def]
        async def handle(envelope: Envelope, payload: MessagePayload, delivery: Delivery) -> None:
            handled.append(payload.user_id)  # type: ignore[attr-defined]

        return handle

    async def ours_done() -> bool:
        return await harness.db.processed_messages.count_documents({"_id": ours.id}) == 1

    await run_consumer(harness, factory, until=ours_done, durable="test_replayed")
    assert set(handled) == {"user-ours"}
    assert await harness.db.processed_messages.count_documents({"_id": theirs.id}) == 0
