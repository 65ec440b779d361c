"""Idempotent, retrying consumption of bus messages for services that consume.

One durable pull consumer per service (replicas share it). Each message's
envelope id is claimed in the service's `processed_messages` collection before
its handler runs and marked done after, so a redelivery (JetStream's dedupe
window is only two minutes), even one arriving concurrently, is acknowledged
without running the handler again. Handlers should still key their effects by
natural keys (upserts, `$addToSet`): a crash between the effect and the "done"
mark re-runs the handler once, after the claim's lease expires.

Failures are NAKed with a growing delay; after `max_deliver` attempts the message
goes to the dead-letter stream with the error, and is acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import orjson
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage as IncomingMessage
from faststream.nats.message import NatsMessage
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from weft_shared.contracts.base import MESSAGE_TYPES, MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.messaging.broker import dead_letter_subject
from weft_shared.periodic import Periodic
from weft_shared.settings import PlatformSettings

log = logging.getLogger("weft.consumer")


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a message sits in the stream: `sequence` orders every message, so a
    read model can ignore a fact older than the one it already holds."""

    sequence: int
    subject: str
    attempt: int


Handler = Callable[[Envelope, Any, Delivery], Awaitable[None]]
P = TypeVar("P", bound=MessagePayload)


Claim = Literal["claimed", "done", "busy"]
# How long one delivery may own a message before another may take it over.
CLAIM_LEASE = timedelta(seconds=60)


class ProcessedMessages:
    """Which message ids this service has handled, or is handling right now.

    Claim-first: the unique `_id` makes exactly one concurrent delivery of a
    message the owner; the others see `busy` (retry later) or `done` (ack).
    A claim whose owner died expires and can be taken over.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def claim(self, message_id: str, message_type: str) -> Claim:
        now = datetime.now(UTC)
        try:
            await self._collection.insert_one(
                {"_id": message_id, "type": message_type, "state": "started", "until": now + CLAIM_LEASE, "at": now}
            )
            return "claimed"
        except DuplicateKeyError:
            pass
        taken_over = await self._collection.find_one_and_update(
            {"_id": message_id, "state": "started", "until": {"$lt": now}},
            {"$set": {"until": now + CLAIM_LEASE}},
        )
        if taken_over is not None:
            return "claimed"
        existing = await self._collection.find_one({"_id": message_id}, projection={"state": 1})
        return "done" if existing and existing.get("state") == "done" else "busy"

    async def complete(self, message_id: str) -> None:
        await self._collection.update_one({"_id": message_id}, {"$set": {"state": "done", "at": datetime.now(UTC)}})

    async def release(self, message_id: str) -> None:
        """The handler failed: let the next delivery try again."""
        await self._collection.delete_one({"_id": message_id, "state": "started"})

    async def forget_older_than(self, age: timedelta) -> int:
        """Expiry by sweep, because FerretDB has no TTL indexes."""
        result = await self._collection.delete_many({"state": "done", "at": {"$lt": datetime.now(UTC) - age}})
        return result.deleted_count

    def expiry(self, *, keep: timedelta = timedelta(days=7), every: float = 3600.0) -> Periodic:
        """A background job forgetting handled ids after `keep` (far beyond JetStream's
        redelivery horizon; a full replay after that is absorbed by idempotent handlers)."""

        async def forget() -> int:
            return await self.forget_older_than(keep)

        return Periodic("processed-message expiry", forget, every, report="forgot %d handled message id(s)")


class MessageDispatcher:
    """Routes envelopes by CloudEvents `type` to handlers; ignores types it doesn't handle."""

    def __init__(
        self,
        broker: NatsBroker,
        platform: PlatformSettings,
        processed: ProcessedMessages,
        *,
        max_deliver: int = 6,
        base_delay: float = 0.5,
    ) -> None:
        self._broker = broker
        self._platform = platform
        self._processed = processed
        self._handlers: dict[str, Handler] = {}
        self.max_deliver = max_deliver
        self._base_delay = base_delay

    def on(
        self, payload_type: type[P]
    ) -> Callable[
        [Callable[[Envelope, P, Delivery], Awaitable[None]]], Callable[[Envelope, P, Delivery], Awaitable[None]]
    ]:
        def register(
            handler: Callable[[Envelope, P, Delivery], Awaitable[None]],
        ) -> Callable[[Envelope, P, Delivery], Awaitable[None]]:
            self._handlers[payload_type.message_type] = handler
            return handler

        return register

    async def handle(self, body: bytes, msg: NatsMessage) -> None:
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            await self._dead_letter(msg, body, f"not a CloudEvents envelope: {exc.error_count()} error(s)")
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            await msg.ack()
            return
        claim = await self._processed.claim(envelope.id, envelope.type)
        if claim == "done":
            await msg.ack()
            return
        attempt = msg.raw_message.metadata.num_delivered
        if claim == "busy":  # another delivery of the same message is being handled
            await msg.nack(delay=self._base_delay * 2 ** min(attempt, 6))
            return
        try:
            payload = MESSAGE_TYPES[envelope.type].model_validate(envelope.data)
            meta = msg.raw_message.metadata
            await handler(envelope, payload, Delivery(meta.sequence.stream, msg.raw_message.subject, attempt))
        except Exception as exc:
            await self._processed.release(envelope.id)
            if isinstance(exc, ValidationError) or attempt >= self.max_deliver:
                log.exception("giving up on message %s (%s) after %d attempt(s)", envelope.id, envelope.type, attempt)
                await self._dead_letter(msg, body, f"{type(exc).__name__}: {exc}")
                return
            log.warning("message %s failed (attempt %d), will retry: %s", envelope.id, attempt, exc)
            await msg.nack(delay=self._base_delay * 2 ** (attempt - 1))
            return
        await self._processed.complete(envelope.id)
        await msg.ack()

    async def _dead_letter(self, msg: NatsMessage, body: bytes, reason: str) -> None:
        subject = dead_letter_subject(self._platform, msg.raw_message.subject)
        await self._broker.publish(
            body,
            subject,
            headers={"Weft-Error": reason[:1000], "Weft-Original-Subject": msg.raw_message.subject},
            stream=self._platform.stream_name + "_DLQ",
        )
        await msg.ack()

    def subscribe(self, *, durable: str, subject: str | None = None) -> None:
        """Attach the dispatcher as this service's one durable pull consumer."""

        async def on_message(msg: IncomingMessage) -> None:
            await self.handle(msg.body, msg)

        self._broker.subscriber(
            subject or f"{self._platform.subject_prefix}.>",
            stream=JStream(self._platform.stream_name, declare=False),
            durable=durable,
            pull_sub=PullSub(batch_size=16, timeout=1.0),
            ack_policy=AckPolicy.MANUAL,
            config=ConsumerConfig(
                durable_name=durable,
                deliver_policy=DeliverPolicy.ALL,
                max_deliver=self.max_deliver + 1,
                ack_wait=30,
            ),
            title=f"{durable} consumer",
        )(on_message)


def envelope_bytes(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json"))
