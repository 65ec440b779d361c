"""The pull-consumer loop on a real nats-server: quiet while idle, still consuming
afterwards, shared by replicas, back after its durable consumer was deleted or
NATS restarted, and quick to stop.

Short fetch timeouts make an idle consumer go through many fetches, which is
where nats-py's bare `asyncio.TimeoutError` came from (FastStream's loop logged
it at ERROR: "Task-N raised an exception, retrying...")."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.support.isolated import Isolated, isolated
from weft_cli.natsserver import start_nats
from weft_shared.contracts.envelope import Envelope, wrap
from weft_shared.contracts.membership import MemberJoined
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.consumer import Delivery, MessageDispatcher, ProcessedMessages, envelope_bytes
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.messaging.subscription import PullConsumer, PulledMessage
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import UnitOfWork

IDLE_SECONDS = 20.0
DELIVERY_DEADLINE = 20.0


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [
            f"{r.name}: {(r.getMessage().splitlines() or [''])[0]}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "")
            for r in self.records
        ]


@pytest.fixture
def error_records() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
async def env(nats_server, database) -> AsyncIterator[Isolated]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "subscription") as it:
        yield it


async def publish(platform: PlatformSettings, envelope: Envelope) -> None:
    broker = create_broker(platform, client_name="test-publisher")
    await broker.connect()
    try:
        subject = subject_for(platform.subject_prefix, MemberJoined, envelope.communityid)
        await broker.publish(
            envelope_bytes(envelope), subject, headers={"Nats-Msg-Id": envelope.id}, stream=platform.stream_name
        )
    finally:
        await broker.stop()


def joined(user_id: str) -> Envelope:
    payload = MemberJoined(community_id="c1", user_id=user_id, role="member", via="open", community_visibility="public")
    return wrap(payload, source="/test", subject="c1", community_id="c1")


async def eventually(condition: Callable[[], bool], what: str, deadline: float = DELIVERY_DEADLINE) -> None:
    until = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < until, f"{what}: not within {deadline:.0f} s"
        await asyncio.sleep(0.05)


async def test_an_idle_consumer_logs_no_error_and_still_consumes_afterwards(
    env: Isolated, error_records: ErrorRecords
) -> None:
    """Through the dispatcher, as the events service runs it, with a fetch timeout
    short enough for hundreds of idle fetches."""
    broker = create_broker(env.platform, client_name="test-idle-consumer")
    outbox = Outbox(env.db)
    await outbox.create_indexes()
    uow = UnitOfWork(env.client, outbox, MessageFactory(env.platform, "/test"))
    dispatcher = MessageDispatcher(broker, env.platform, ProcessedMessages(env.db.processed_messages), uow)
    handled: list[str] = []

    @dispatcher.on(MemberJoined)
    async def on_joined(envelope: Envelope, payload: MemberJoined, delivery: Delivery) -> None:
        handled.append(payload.user_id)

    consumer = dispatcher.subscribe(durable=f"idle_{secrets.token_hex(3)}", fetch_timeout=0.05)
    await broker.start()
    await consumer.start()
    try:
        await asyncio.sleep(IDLE_SECONDS)
        assert consumer.running
        await publish(env.platform, joined("late"))
        await eventually(lambda: handled == ["late"], "the message published after the idle spell was handled")
    finally:
        await consumer.stop()
        await broker.stop()
    assert not consumer.running
    assert error_records.lines() == []


async def raw_consumer(
    platform: PlatformSettings,
    durable: str,
    handler: Callable[[bytes, PulledMessage], Awaitable[None]],
    *,
    ack_wait: float = 30,
    **options: float,
) -> tuple[PullConsumer, Callable[[], Awaitable[None]]]:
    broker = create_broker(platform, client_name=f"test-{durable}")
    await broker.connect()
    consumer = PullConsumer(
        broker,
        stream=platform.stream_name,
        durable=durable,
        config=ConsumerConfig(
            name=durable,
            durable_name=durable,
            filter_subject=f"{platform.subject_prefix}.>",
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ack_wait,
        ),
        handler=handler,
        **options,  # type: ignore[arg-type]
    )
    await consumer.start()

    async def stop() -> None:
        await consumer.stop()
        await broker.stop()

    return consumer, stop


async def test_replicas_share_one_durable_consumer(env: Isolated, error_records: ErrorRecords) -> None:
    durable = f"shared_{secrets.token_hex(3)}"
    seen: list[tuple[int, bytes]] = []

    def handler_for(replica: int) -> Callable[[bytes, PulledMessage], Awaitable[None]]:
        async def handle(body: bytes, message: PulledMessage) -> None:
            seen.append((replica, body))
            await message.ack()

        return handle

    first, stop_first = await raw_consumer(env.platform, durable, handler_for(1), batch=2, fetch_timeout=0.2)
    second, stop_second = await raw_consumer(env.platform, durable, handler_for(2), batch=2, fetch_timeout=0.2)
    try:
        envelopes = [joined(f"user{i}") for i in range(30)]
        for envelope in envelopes:
            await publish(env.platform, envelope)
        await eventually(lambda: len(seen) >= len(envelopes), "every message was handled")
        await asyncio.sleep(0.5)  # room for a (wrong) second delivery
    finally:
        await stop_first()
        await stop_second()
    bodies = sorted(body for _, body in seen)
    assert bodies == sorted(envelope_bytes(e) for e in envelopes)  # each once, by one replica
    assert first.handled + second.handled == len(envelopes)
    assert error_records.lines() == []


async def test_a_deleted_durable_consumer_is_created_again(env: Isolated) -> None:
    durable = f"vanishing_{secrets.token_hex(3)}"
    seen: list[bytes] = []

    async def handle(body: bytes, message: PulledMessage) -> None:
        seen.append(body)
        await message.ack()

    consumer, stop = await raw_consumer(env.platform, durable, handle, fetch_timeout=0.2, check_every=1.0)
    try:
        admin = create_broker(env.platform, client_name="test-admin")
        await admin.connect()
        try:
            await admin.config.connection_state.stream.delete_consumer(env.platform.stream_name, durable)
        finally:
            await admin.stop()
        await asyncio.sleep(2.0)  # the consumer notices on its next check
        await publish(env.platform, joined("after-delete"))
        await eventually(lambda: len(seen) == 1, "a message after the consumer was deleted was handled")
        assert consumer.running
    finally:
        await stop()


async def test_a_message_whose_handler_raised_is_delivered_again(env: Isolated) -> None:
    durable = f"raising_{secrets.token_hex(3)}"
    attempts: list[int] = []

    async def handle(body: bytes, message: PulledMessage) -> None:
        attempts.append(message.raw_message.metadata.num_delivered)
        if len(attempts) == 1:
            raise RuntimeError("database briefly away")
        await message.ack()

    _, stop = await raw_consumer(env.platform, durable, handle, fetch_timeout=0.2, ack_wait=1.0)
    try:
        await publish(env.platform, joined("flaky"))
        await eventually(lambda: len(attempts) == 2, "the message came back after the handler raised")
    finally:
        await stop()
    assert attempts == [1, 2]


async def test_stopping_an_idle_consumer_does_not_wait_for_its_fetch(env: Isolated) -> None:
    async def handle(body: bytes, message: PulledMessage) -> None:
        await message.ack()

    consumer, stop = await raw_consumer(env.platform, f"stopping_{secrets.token_hex(3)}", handle, fetch_timeout=600.0)
    await asyncio.sleep(0.5)  # inside a ten-minute fetch now
    # Bounded only so a stop that waited for the fetch fails instead of hanging.
    await asyncio.wait_for(stop(), 60.0)
    assert not consumer.running


async def test_the_consumer_comes_back_after_a_nats_restart(database, tmp_path, error_records: ErrorRecords) -> None:  # type: ignore[no-untyped-def]
    own_nats = start_nats(tmp_path / "nats")
    try:
        async with isolated(own_nats.url, database.url, "subscription") as env:
            seen: list[bytes] = []

            async def handle(body: bytes, message: PulledMessage) -> None:
                seen.append(body)
                await message.ack()

            consumer, stop = await raw_consumer(
                env.platform, f"restart_{secrets.token_hex(3)}", handle, fetch_timeout=0.5
            )
            try:
                own_nats.stop()
                await asyncio.sleep(3.0)  # fetches fail or time out meanwhile
                own_nats = start_nats(tmp_path / "nats", port=own_nats.port)
                await publish(env.platform, joined("after-restart"))
                await eventually(lambda: len(seen) == 1, "a message published after the restart was handled")
                assert consumer.running
            finally:
                await stop()
    finally:
        own_nats.stop()
    assert [line for line in error_records.lines() if line.startswith("weft.subscription")] == []


async def test_a_handler_longer_than_ack_wait_is_not_redelivered_meanwhile(env: Isolated) -> None:
    """A fan-out to a large community can outlast `ack_wait`: the loop says it is still
    working, so no replica gets the message a second time while the first handles it."""
    durable = f"slow_{secrets.token_hex(3)}"
    deliveries: list[int] = []

    async def slow(body: bytes, message: PulledMessage) -> None:
        deliveries.append(message.raw_message.metadata.num_delivered)
        await asyncio.sleep(5.0)  # more than twice the ack wait
        await message.ack()

    first, stop_first = await raw_consumer(env.platform, durable, slow, ack_wait=2, fetch_timeout=0.2)
    second, stop_second = await raw_consumer(env.platform, durable, slow, ack_wait=2, fetch_timeout=0.2)
    try:
        await publish(env.platform, joined("patient"))
        await eventually(lambda: first.handled + second.handled == 1, "the slow message was handled")
        await asyncio.sleep(3.0)  # room for a (wrong) redelivery after the ack wait
    finally:
        await stop_first()
        await stop_second()
    assert deliveries == [1]
