"""Metrics of the bus and the outbox: the durable consumer, the dead-letter stream, the outbox backlog.

Counters move as messages are handled; gauges are read from JetStream and the
database when scraped (one consumer-info, one stream-info and two indexed outbox
queries per scrape, whatever the traffic).
"""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.nats import NatsBroker
from prometheus_client import Counter, Gauge

from weft_shared.messaging.outbox import Outbox
from weft_shared.metrics.process import ProcessMetrics

# What the dispatcher did with a message (weft_shared.messaging.consumer.Outcome).
OUTCOMES = ("ok", "ignored", "retried", "dead_lettered")


class ConsumerMetrics:
    """One durable consumer's handled messages (counted here) and its JetStream state (read on scrape)."""

    def __init__(self, metrics: ProcessMetrics, broker: NatsBroker, *, stream: str, durable: str) -> None:
        self._broker = broker
        self._stream = stream
        self._durable = durable
        service, registry = metrics.service, metrics.registry
        labels = ["service", "durable"]
        handled = Counter(
            "weft_consumer_messages_handled_total",
            "Messages the durable consumer settled, by outcome: ok (handled or already handled), "
            "ignored (a type it does not handle), retried (NAKed with a delay), dead_lettered",
            [*labels, "outcome"],
            registry=registry,
        )
        self._handled = {outcome: handled.labels(service, durable, outcome) for outcome in OUTCOMES}
        self._redeliveries = Counter(
            "weft_consumer_redeliveries_total",
            "Deliveries of a message after its first (JetStream's num_delivered > 1)",
            labels,
            registry=registry,
        ).labels(service, durable)
        gauge_labels = (service, durable)
        self._pending = Gauge(
            "weft_consumer_pending_messages",
            "Messages in the stream not yet delivered to the durable consumer (JetStream num_pending)",
            labels,
            registry=registry,
        ).labels(*gauge_labels)
        self._ack_pending = Gauge(
            "weft_consumer_ack_pending_messages",
            "Messages delivered and not yet acknowledged (JetStream num_ack_pending)",
            labels,
            registry=registry,
        ).labels(*gauge_labels)
        self._redelivered = Gauge(
            "weft_consumer_redelivered_messages",
            "Messages redelivered and not yet acknowledged (JetStream num_redelivered)",
            labels,
            registry=registry,
        ).labels(*gauge_labels)
        metrics.on_scrape(f"consumer {durable}", self.refresh)

    def settled(self, outcome: str, attempt: int) -> None:
        """The dispatcher's hook: called once per delivery it settles."""
        counter = self._handled.get(outcome)
        if counter is not None:
            counter.inc()
        if attempt > 1:
            self._redeliveries.inc()

    async def refresh(self) -> None:
        js = self._broker.config.connection_state.stream
        info = await js.consumer_info(self._stream, self._durable)
        self._pending.set(info.num_pending or 0)
        self._ack_pending.set(info.num_ack_pending or 0)
        self._redelivered.set(info.num_redelivered or 0)


class DeadLetterMetrics:
    """How many messages wait in the dead-letter stream. The stream is shared by every
    service (its subjects name the original subject, not the consumer that gave up), so
    every process reports the same depth: a dashboard takes the max by stream."""

    def __init__(self, metrics: ProcessMetrics, broker: NatsBroker, *, stream: str) -> None:
        self._broker = broker
        self._stream = stream
        self._depth = Gauge(
            "weft_dead_letter_messages",
            "Messages in the dead-letter stream (inspect and replay with `weft dlq`)",
            ["service", "stream"],
            registry=metrics.registry,
        ).labels(metrics.service, stream)
        metrics.on_scrape(f"dead letters {stream}", self.refresh)

    async def refresh(self) -> None:
        js = self._broker.config.connection_state.stream
        info = await js.stream_info(self._stream)
        self._depth.set(info.state.messages)


class OutboxMetrics:
    """The service's outbox: records committed and not yet published, and how long the oldest has waited.
    A backlog that grows, or an age past a few seconds, means the relay cannot publish (NATS away)."""

    def __init__(self, metrics: ProcessMetrics, outbox: Outbox) -> None:
        self._outbox = outbox
        registry, service = metrics.registry, metrics.service
        self._pending = Gauge(
            "weft_outbox_pending_messages",
            "Outbox records committed and not yet published",
            ["service"],
            registry=registry,
        ).labels(service)
        self._oldest_age = Gauge(
            "weft_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox record (0 when the outbox is empty)",
            ["service"],
            registry=registry,
        ).labels(service)
        metrics.on_scrape("outbox", self.refresh)

    async def refresh(self) -> None:
        self._pending.set(await self._outbox.pending_count())
        oldest = await self._outbox.oldest_created_at()
        if oldest is None:
            self._oldest_age.set(0)
            return
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        self._oldest_age.set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))
