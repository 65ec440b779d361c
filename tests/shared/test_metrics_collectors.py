"""The bus and outbox collectors on a stream and database of the test's own (real nats-server,
real database), run in-process: retried, redelivered and dead-lettered messages are counted,
the gauges read on scrape agree with JetStream and the outbox, and a read that fails or hangs
never fails the scrape."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.isolated import Isolated, isolated
from tests.support.waiting import eventually
from weft_shared.contracts.envelope import Envelope, wrap
from weft_shared.contracts.membership import MemberJoined, MemberLeft
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.broker import DLQ_SUFFIX, create_broker
from weft_shared.messaging.consumer import Delivery, MessageDispatcher, ProcessedMessages, envelope_bytes
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.metrics import ProcessMetrics
from weft_shared.metrics.messaging import ConsumerMetrics, DeadLetterMetrics, OutboxMetrics
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

Values = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def values(metrics: ProcessMetrics) -> Values:
    text = (await metrics.render()).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Values, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


@pytest.fixture
async def bus(nats_server, database) -> AsyncIterator[Isolated]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "metrics") as env:
        await Outbox(env.db).create_indexes()
        yield env


def joined(user_id: str) -> MemberJoined:
    return MemberJoined(community_id="c1", user_id=user_id, role="member", via="open", community_visibility="public")


async def test_retried_redelivered_ignored_and_dead_lettered_messages_are_counted(bus: Isolated) -> None:
    platform = bus.platform
    broker = create_broker(platform, client_name="metrics-test")
    uow = UnitOfWork(bus.client, Outbox(bus.db), MessageFactory(platform, "/test"))
    dispatcher = MessageDispatcher(
        broker, platform, ProcessedMessages(bus.db.processed_messages), uow, max_deliver=3, base_delay=0.05
    )
    durable = f"metrics_{secrets.token_hex(3)}"
    metrics = ProcessMetrics("test")
    dispatcher.on_settled = ConsumerMetrics(metrics, broker, stream=platform.stream_name, durable=durable).settled
    DeadLetterMetrics(metrics, broker, stream=platform.stream_name + DLQ_SUFFIX)
    attempts: dict[str, int] = {}

    @dispatcher.on(MemberJoined)
    async def handle(envelope: Envelope, payload: MemberJoined, delivery: Delivery) -> None:
        attempts[payload.user_id] = attempts.get(payload.user_id, 0) + 1
        if payload.user_id == "poison":
            raise RuntimeError("this message cannot be handled")
        if payload.user_id == "flaky" and attempts["flaky"] < 3:
            raise ConnectionError("database briefly unavailable")

    consumer = dispatcher.subscribe(durable=durable)
    await broker.start()
    try:
        fine = wrap(joined("fine"), source="/test", subject="c1", community_id="c1")
        left = MemberLeft(community_id="c1", user_id="gone", role="member")
        for payload, envelope, msg_id in [
            (joined("fine"), fine, fine.id),
            (joined("fine"), fine, fine.id + "-again"),  # the same message twice in the stream: one effect
            (joined("flaky"), None, None),
            (joined("poison"), None, None),
            (left, None, None),  # a type this consumer does not handle
        ]:
            envelope = envelope or wrap(payload, source="/test", subject="c1", community_id="c1")
            await broker.publish(
                envelope_bytes(envelope),
                subject_for(platform.subject_prefix, type(payload), "c1"),
                headers={"Nats-Msg-Id": msg_id or envelope.id},
                stream=platform.stream_name,
            )
        await consumer.start()
        handled = "weft_consumer_messages_handled_total"

        async def settled() -> Values | None:
            found = await values(metrics)
            return found if value(found, handled, durable=durable) >= 9 else None  # 3 + 4 + 1 + 1, below

        found = await eventually(settled, what="every delivery settled")
        # fine, its copy (already handled) and flaky's third attempt; flaky twice and poison twice
        # retried; poison's third attempt dead-lettered; member.left ignored.
        assert value(found, handled, durable=durable, outcome="ok") == 3
        assert value(found, handled, durable=durable, outcome="retried") == 4
        assert value(found, handled, durable=durable, outcome="dead_lettered") == 1
        assert value(found, handled, durable=durable, outcome="ignored") == 1
        assert value(found, "weft_consumer_redeliveries_total", durable=durable) == 4
        # (`fine`'s two copies may run side by side in one batch, so its handler may run twice;
        # one commits. Its effects are test_consumer.py's concern, the counts above are ours.)
        assert (attempts["flaky"], attempts["poison"]) == (3, 3)

        async def drained() -> Values | None:
            found = await values(metrics)
            lag = value(found, "weft_consumer_pending_messages", durable=durable) + value(
                found, "weft_consumer_ack_pending_messages", durable=durable
            )
            return found if lag == 0 else None

        found = await eventually(drained, what="JetStream to see every acknowledgement")
        assert value(found, "weft_dead_letter_messages", stream=platform.stream_name + DLQ_SUFFIX) == 1
        assert value(found, "weft_consumer_redelivered_messages", durable=durable) == 0
        assert value(found, "weft_metrics_refresh_failures_total") == 0
    finally:
        await consumer.stop()
        await broker.stop()


async def test_the_outbox_gauges_read_the_backlog_and_the_age_of_its_oldest_record(bus: Isolated) -> None:
    outbox = Outbox(bus.db)
    metrics = ProcessMetrics("test")
    OutboxMetrics(metrics, outbox)
    found = await values(metrics)
    assert value(found, "weft_outbox_pending_messages") == 0
    assert value(found, "weft_outbox_oldest_age_seconds") == 0

    # No relay: the committed records stay in the outbox, as while NATS is away.
    uow = UnitOfWork(bus.client, outbox, MessageFactory(bus.platform, "/test"))

    async def announce(tx: Transaction) -> None:
        for user in ("ana", "ben"):
            tx.announce(joined(user), aggregate="communities/c1", community_id="c1")

    await uow.run(announce)
    # Make the first one old, as if it had waited out an outage.
    first = await outbox.records.find_one({"version": 1})
    assert first is not None
    await outbox.records.update_one({"_id": first["_id"]}, {"$set": {"created_at": now() - timedelta(minutes=10)}})

    found = await values(metrics)
    assert value(found, "weft_outbox_pending_messages", service="test") == 2
    assert 600 <= value(found, "weft_outbox_oldest_age_seconds", service="test") < 3600

    await outbox.records.delete_many({})
    found = await values(metrics)
    assert value(found, "weft_outbox_pending_messages") == 0
    assert value(found, "weft_outbox_oldest_age_seconds") == 0


async def test_a_read_that_fails_or_hangs_is_skipped_and_counted_and_the_scrape_still_answers(bus: Isolated) -> None:
    metrics = ProcessMetrics("test", refresh_timeout_seconds=0.2)
    # A broker that never connected: reading the dead-letter stream fails, as with NATS away.
    DeadLetterMetrics(metrics, create_broker(bus.platform, client_name="never-connected"), stream="WEFT_DLQ")

    async def hangs() -> None:
        await asyncio.Event().wait()

    metrics.on_scrape("hangs", hangs)
    OutboxMetrics(metrics, Outbox(bus.db))  # after both: still read
    await Outbox(bus.db).records.insert_one({"_id": "r1", "aggregate": "a", "version": 1, "created_at": now()})

    found = await values(metrics)
    assert value(found, "weft_metrics_refresh_failures_total", source="dead letters WEFT_DLQ") == 1
    assert value(found, "weft_metrics_refresh_failures_total", source="hangs") == 1
    assert value(found, "weft_outbox_pending_messages") == 1
    # Two processes' registries in one interpreter do not collide.
    other = ProcessMetrics("test")
    OutboxMetrics(other, Outbox(bus.db))
    assert value(await values(other), "weft_metrics_refresh_failures_total") == 0
