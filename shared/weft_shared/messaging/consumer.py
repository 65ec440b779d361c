"""Idempotent, retrying consumption of bus messages for services that consume.

One durable pull consumer per service (replicas share it). A message's handler
runs inside one transaction with the record that its envelope id was handled
(`processed_messages`), so its effects and that record commit together: a
redelivery (JetStream's dedupe window is only two minutes), even one arriving
concurrently, finds the record and is acknowledged without running the handler
again, and a crash mid-handler leaves neither. Handled ids expire by a TTL index.

Failures are NAKed with a growing delay; after `max_deliver` attempts the message
goes to the dead-letter stream with the error, and is acknowledged.

Each message is handled in a CONSUMER span continuing the trace in its headers
(the publishing outbox relay's); redeliveries, retries and dead-lettering are
events on it, and what the handler announces continues the same trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from faststream.nats import NatsBroker
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from weft_shared.contracts.base import MESSAGE_TYPES, MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.messaging.broker import dead_letter_subject
from weft_shared.messaging.subscription import PullConsumer, PulledMessage
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork
from weft_shared.tracing import extract, inject

log = logging.getLogger("weft.consumer")


# On a message `weft dlq replay` sends again: the durable it is for (every other one skips it).
REPLAY_FOR_HEADER = "Weft-Replay-For"


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a message sits in the stream: `sequence` orders every message, so a
    read model can ignore a fact older than the one it already holds."""

    sequence: int
    subject: str
    attempt: int


Handler = Callable[[Envelope, Any, Delivery], Awaitable[None]]
# Told how each delivery was settled ("ok", "ignored", "retried", "dead_lettered") and its attempt number.
SettledHook = Callable[[str, int], None]
P = TypeVar("P", bound=MessagePayload)


class ProcessedMessages:
    """Which message ids this service has handled; written in the handler's transaction."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], *, keep: timedelta = timedelta(days=7)) -> None:
        self._collection = collection
        # Far beyond JetStream's redelivery horizon; a full replay after that is
        # absorbed by the handlers' own guards (sequence-checked facts, state transitions).
        self.keep = keep

    async def create_indexes(self) -> None:
        await self._collection.create_index("at", expireAfterSeconds=int(self.keep.total_seconds()), name="at_ttl")

    async def seen(self, tx: Transaction, message_id: str) -> bool:
        return (
            await self._collection.find_one({"_id": message_id}, projection={"_id": 1}, session=tx.session) is not None
        )

    async def record(self, tx: Transaction, message_id: str, message_type: str) -> None:
        await self._collection.insert_one(
            {"_id": message_id, "type": message_type, "at": datetime.now(UTC)}, session=tx.session
        )


class MessageDispatcher:
    """Routes envelopes by CloudEvents `type` to handlers; ignores types it doesn't handle."""

    def __init__(
        self,
        broker: NatsBroker,
        platform: PlatformSettings,
        processed: ProcessedMessages,
        uow: UnitOfWork,
        *,
        max_deliver: int = 6,
        base_delay: float = 0.5,
        tracer: Tracer | None = None,
    ) -> None:
        self._broker = broker
        self._tracer = tracer or trace.get_tracer("weft")
        self._platform = platform
        self._processed = processed
        self._uow = uow
        self._handlers: dict[str, Handler] = {}
        self._every: list[Handler] = []
        self._drop_checks: list[Callable[[Envelope, MessagePayload], Awaitable[bool]]] = []
        self.max_deliver = max_deliver
        self._base_delay = base_delay
        self.on_settled: SettledHook | None = None  # the process's metrics, when it has them

    def _settled(self, outcome: str, msg: PulledMessage) -> None:
        if self.on_settled is not None:
            self.on_settled(outcome, msg.raw_message.metadata.num_delivered or 1)

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

    def on_every(self, handler: Handler) -> Handler:
        """Also run `handler` for every message of a registered type (any type in
        `MESSAGE_TYPES`), after its own handler, in the same transaction."""
        self._every.append(handler)
        return handler

    def drop_when(self, check: Callable[[Envelope, MessagePayload], Awaitable[bool]]) -> None:
        """Skip (record as handled, run no handler) a message `check` calls stale, in its
        transaction: e.g. one about a person sent before they were erased."""
        self._drop_checks.append(check)

    async def handle(self, body: bytes, msg: PulledMessage) -> None:
        raw = msg.raw_message
        meta = raw.metadata
        with self._tracer.start_as_current_span(
            "process",
            context=extract(raw.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": raw.subject,
                "messaging.consumer.group.name": meta.consumer or "",
                "messaging.message.id": (raw.headers or {}).get("Nats-Msg-Id", ""),
                "messaging.nats.stream.sequence": meta.sequence.stream,
                "messaging.nats.delivery.count": meta.num_delivered,
            },
        ) as span:
            if meta.num_delivered > 1:
                span.add_event("redelivery", {"messaging.nats.delivery.count": meta.num_delivered})
            await self._handle(body, msg, span)

    async def _handle(self, body: bytes, msg: PulledMessage, span: Span) -> None:
        replay_for = (msg.raw_message.headers or {}).get(REPLAY_FOR_HEADER)
        if replay_for and replay_for != msg.raw_message.metadata.consumer:
            # `weft dlq replay` sends a message again for the one consumer that gave up on it;
            # the others handled it (or dead-lettered it themselves) the first time.
            span.set_attribute("weft.message.ignored", True)
            await msg.ack()
            self._settled("ignored", msg)
            return
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            await self._dead_letter(msg, body, f"not a CloudEvents envelope: {exc.error_count()} error(s)")
            return
        span.update_name(f"process {envelope.type}")  # the type, not the subject: subjects carry ids
        span.set_attribute("messaging.message.id", envelope.id)
        handler = self._handlers.get(envelope.type)
        if handler is None and not (self._every and envelope.type in MESSAGE_TYPES):
            span.set_attribute("weft.message.ignored", True)
            await msg.ack()
            self._settled("ignored", msg)
            return
        attempt = msg.raw_message.metadata.num_delivered
        try:
            payload = MESSAGE_TYPES[envelope.type].model_validate(envelope.data)
            meta = msg.raw_message.metadata
            delivery = Delivery(meta.sequence.stream, msg.raw_message.subject, attempt)

            async def handle_once(tx: Transaction) -> None:
                if await self._processed.seen(tx, envelope.id):
                    return  # a redelivery of a message already handled
                await self._processed.record(tx, envelope.id, envelope.type)
                for stale in self._drop_checks:
                    if await stale(envelope, payload):
                        return
                if handler is not None:
                    await handler(envelope, payload, delivery)
                for every in self._every:
                    await every(envelope, payload, delivery)

            await self._uow.run(handle_once)
        except DuplicateKeyError as exc:
            if "processed_messages" not in str(exc):
                await self._fail(msg, body, envelope, attempt, exc)
                return
            # a concurrent delivery of the same message committed first
        except Exception as exc:
            await self._fail(msg, body, envelope, attempt, exc)
            return
        await msg.ack()
        self._settled("ok", msg)

    async def _fail(self, msg: PulledMessage, body: bytes, envelope: Envelope, attempt: int, exc: Exception) -> None:
        span = trace.get_current_span()
        span.record_exception(exc)
        span.set_status(StatusCode.ERROR, type(exc).__name__)
        if isinstance(exc, ValidationError) or attempt >= self.max_deliver:
            log.exception("giving up on message %s (%s) after %d attempt(s)", envelope.id, envelope.type, attempt)
            await self._dead_letter(msg, body, f"{type(exc).__name__}: {exc}")
            return
        log.warning("message %s failed (attempt %d), will retry: %s", envelope.id, attempt, exc)
        delay = self._base_delay * 2 ** (attempt - 1)
        span.add_event("retry scheduled", {"messaging.nats.delivery.count": attempt, "weft.retry.delay_s": delay})
        await msg.nack(delay=delay)
        self._settled("retried", msg)

    async def _dead_letter(self, msg: PulledMessage, body: bytes, reason: str) -> None:
        subject = dead_letter_subject(self._platform, msg.raw_message.subject)
        trace.get_current_span().add_event("dead-lettered", {"weft.dead_letter.subject": subject, "weft.error": reason})
        meta = msg.raw_message.metadata
        # What `weft dlq` shows and replays: where the message came from and who gave up.
        headers = {
            "Weft-Error": reason[:1000],
            "Weft-Original-Subject": msg.raw_message.subject,
            "Weft-Original-Sequence": str(meta.sequence.stream),
            "Weft-Consumer": meta.consumer or "",
            "Weft-Delivery-Count": str(meta.num_delivered),
        }
        await self._broker.publish(
            body,
            subject,
            headers=dict(inject(headers)),  # the dead letter keeps the trace of its handling
            stream=self._platform.stream_name + "_DLQ",
        )
        await msg.ack()
        self._settled("dead_lettered", msg)

    def subscribe(
        self, *, durable: str, subject: str | None = None, fetch_timeout: float = 5.0, from_new: bool = False
    ) -> PullConsumer:
        """This service's one durable pull consumer, feeding the dispatcher. The
        caller starts it after the broker (`await consumer.start()`) and stops it
        before (`await consumer.stop()`). `from_new`: a consumer created now starts
        at the end of the stream instead of its beginning."""
        return PullConsumer(
            self._broker,
            stream=self._platform.stream_name,
            durable=durable,
            config=ConsumerConfig(
                name=durable,
                durable_name=durable,
                filter_subject=subject or f"{self._platform.subject_prefix}.>",
                deliver_policy=DeliverPolicy.NEW if from_new else DeliverPolicy.ALL,
                max_deliver=self.max_deliver + 1,
                ack_wait=30,
            ),
            handler=self.handle,
            fetch_timeout=fetch_timeout,
        )


def envelope_bytes(envelope: Envelope) -> bytes:
    return orjson.dumps(envelope.model_dump(mode="json"))
