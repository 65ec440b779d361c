"""Soak: does an idle durable pull consumer stay quiet, and does it still consume?

Starts its own nats-server (JetStream, temporary store, free port on 127.0.0.1),
creates the Weft streams under a fresh name, attaches one consumer, leaves it idle
for `--minutes`, then publishes one message and waits up to `--deadline` seconds
for it to be handled. It prints every log record at ERROR or above as it happens,
then a summary: the ERROR count, whether the late message was consumed, and how
the idle fetches ended (nats-py raises a bare `asyncio.TimeoutError` from
`_fetch_n` now and then, besides its own `nats.errors.TimeoutError`).

    .venv/bin/python bench/idle_consumer.py [--minutes 10] [--mode weft|faststream]
                                            [--fetch-timeout SECONDS] [--deadline 30]

`--mode weft` (default) is `MessageDispatcher.subscribe()`'s consumer (our pull
loop, `weft_shared.messaging.subscription`) feeding the real dispatcher; with
MONGODB_URL set a handler runs in the dispatcher's transaction with the
processed-message record there, else the dispatcher has no handler for it and
just acknowledges it.
`--mode faststream` is the FastStream pull subscriber Weft used before (batch 16,
timeout 1 s), for comparison. The fetch timeout
defaults to each mode's production value (5 s and 1 s); a short one (0.05)
makes many more idle fetches in the same time.

Exit status: 0 if no ERROR record was seen and the message was consumed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from pymongo import AsyncMongoClient

from weft_cli.natsserver import start_nats
from weft_shared.contracts.envelope import Envelope, wrap
from weft_shared.contracts.membership import MemberJoined
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.messaging.consumer import Delivery, MessageDispatcher, ProcessedMessages, envelope_bytes
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import UnitOfWork


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        first = record.getMessage().splitlines()[0] if record.getMessage() else ""
        exc = f" [{record.exc_info[1]!r}]" if record.exc_info and record.exc_info[1] else ""
        print(f"ERROR LINE {self.count} ({time.strftime('%H:%M:%S')}) {record.name}: {first}{exc}", flush=True)


FETCH_ENDINGS: Counter[str] = Counter()


def count_fetch_endings() -> None:
    """Wrap nats-py's PullSubscription.fetch to count how each call ended."""
    original = JetStreamContext.PullSubscription.fetch

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            msgs = await original(self, *args, **kwargs)
        except BaseException as exc:
            FETCH_ENDINGS[f"{type(exc).__module__}.{type(exc).__qualname__}"] += 1
            raise
        FETCH_ENDINGS["messages" if msgs else "empty list"] += 1
        return msgs

    JetStreamContext.PullSubscription.fetch = fetch  # type: ignore[method-assign]


def late_envelope() -> Envelope:
    payload = MemberJoined(community_id="c1", user_id="late", role="member", via="open", community_visibility="public")
    return wrap(payload, source="/bench", subject="c1", community_id="c1")


Attached = tuple[Callable[[], Awaitable[None]], Callable[[], Awaitable[None]], Callable[[], bool]]


async def attach_weft(broker: NatsBroker, platform: PlatformSettings, durable: str, fetch_timeout: float) -> Attached:
    """start, stop, and whether a message was handled."""
    mongodb_url = os.environ.get("MONGODB_URL")
    # The client connects lazily: without MONGODB_URL it is never used, because no
    # handler is registered and the dispatcher acknowledges unhandled types at once.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url or "mongodb://127.0.0.1:1", tz_aware=True)
    database = f"idle_soak_{durable}"
    uow = UnitOfWork(client, Outbox(client[database]), MessageFactory(platform, "/bench"))
    dispatcher = MessageDispatcher(broker, platform, ProcessedMessages(client[database].processed_messages), uow)
    ran: list[str] = []
    if mongodb_url:
        print(f"the dispatcher records handled messages in {mongodb_url} (database {database})")

        @dispatcher.on(MemberJoined)
        async def joined(envelope: Envelope, payload: MemberJoined, delivery: Delivery) -> None:
            ran.append(envelope.id)

    else:
        print("no MONGODB_URL: the dispatcher has no handler and acknowledges the message without a database")
    consumer = dispatcher.subscribe(durable=durable, fetch_timeout=fetch_timeout)

    async def stop() -> None:
        await consumer.stop()
        if mongodb_url:
            await client.drop_database(database)
        await client.close()

    # With a handler: it ran (in its transaction); without: the dispatcher acknowledged.
    return consumer.start, stop, (lambda: bool(ran)) if mongodb_url else (lambda: consumer.handled > 0)


async def attach_faststream(
    broker: NatsBroker, platform: PlatformSettings, durable: str, fetch_timeout: float
) -> Attached:
    handled: list[bool] = []

    async def on_message(msg: NatsMessage) -> None:
        handled.append(True)
        await msg.ack()

    broker.subscriber(
        f"{platform.subject_prefix}.>",
        stream=JStream(platform.stream_name, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=16, timeout=fetch_timeout),
        ack_policy=AckPolicy.MANUAL,
        config=ConsumerConfig(durable_name=durable, deliver_policy=DeliverPolicy.ALL, max_deliver=7, ack_wait=30),
    )(on_message)

    async def nothing() -> None:  # the broker starts and stops its subscribers
        return None

    return nothing, nothing, lambda: bool(handled)


async def soak(args: argparse.Namespace, nats_url: str) -> bool:
    run = secrets.token_hex(3)
    platform = PlatformSettings(
        env="dev",
        nats_url=nats_url,
        mongodb_url=os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:1"),
        stream_name=f"SOAK_{run.upper()}",
        subject_prefix=f"soak{run}",
    )
    durable = f"idle_{run}"
    fetch_timeout = args.fetch_timeout or (5.0 if args.mode == "weft" else 1.0)
    broker = create_broker(platform, client_name=f"idle-soak-{args.mode}")
    attach = attach_weft if args.mode == "weft" else attach_faststream
    start_consumer, stop_consumer, was_handled = await attach(broker, platform, durable, fetch_timeout)
    await broker.connect()
    await ensure_streams(broker, platform)
    await broker.start()
    await start_consumer()
    print(f"mode={args.mode} fetch_timeout={fetch_timeout}s idle for {args.minutes} min ...", flush=True)
    try:
        idle_until = time.monotonic() + args.minutes * 60
        while (left := idle_until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 60.0))
            if left > 60.0:
                print(f"  {time.strftime('%H:%M:%S')} idle, fetches so far: {dict(FETCH_ENDINGS)}", flush=True)
        envelope = late_envelope()
        published = time.monotonic()
        await broker.publish(
            envelope_bytes(envelope),
            subject_for(platform.subject_prefix, MemberJoined, "c1"),
            headers={"Nats-Msg-Id": envelope.id},
            stream=platform.stream_name,
        )
        deadline = published + args.deadline
        consumed = False
        while time.monotonic() < deadline:
            if consumed := was_handled():
                break
            await asyncio.sleep(0.01)
        waited = time.monotonic() - published
    finally:
        await stop_consumer()
        await broker.stop()
    after = f" after {waited:.2f} s" if consumed else f" (not within {args.deadline:.0f} s)"
    print(f"late message consumed: {'yes' if consumed else 'NO'}{after}")
    return consumed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--mode", choices=["weft", "faststream"], default="weft")
    parser.add_argument("--fetch-timeout", type=float, default=None)
    parser.add_argument("--deadline", type=float, default=30.0, help="seconds to wait for the late message")
    args = parser.parse_args()

    errors = ErrorCounter()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().addHandler(errors)
    logging.getLogger("weft.broker").setLevel(logging.WARNING)  # FastStream's per-task chatter
    count_fetch_endings()

    store = Path(tempfile.mkdtemp(prefix="weft-idle-soak-"))
    nats = start_nats(store)
    print(f"nats-server on {nats.url} (pid {nats.pid})", flush=True)
    started = time.monotonic()
    try:
        consumed = asyncio.run(soak(args, nats.url))
    finally:
        nats.stop()
        shutil.rmtree(store, ignore_errors=True)
    print(f"mode: {args.mode}; idle: {args.minutes} min; wall time: {time.monotonic() - started:.0f} s")
    print(f"idle fetches ended with: {dict(sorted(FETCH_ENDINGS.items()))}")
    print(f"ERROR lines: {errors.count}")
    print(f"late message consumed: {'yes' if consumed else 'no'}")
    return 0 if errors.count == 0 and consumed else 1


if __name__ == "__main__":
    sys.exit(main())
