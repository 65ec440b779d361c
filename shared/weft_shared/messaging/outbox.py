"""Transactional outbox: messages commit with the state change, then get published.

A use case's writes and the records of the messages announcing them are ONE
MongoDB transaction (see `weft_shared.storage.unit_of_work`); the records live
in the service's own `outbox` collection. After the commit the relay publishes
them with `Nats-Msg-Id` = message id (JetStream drops duplicates inside its
window), waits for the PubAck and only then deletes each record.

Order: every record names its aggregate (`communities/<id>`) and carries the
aggregate's message version, taken from a per-aggregate counter in the same
transaction — so concurrent writers about one aggregate conflict and retry, and
versions follow commit order. The relay publishes an aggregate's records in
version order: a record with an older one still pending is left to whoever
publishes that older one, who continues with the later ones.

- fast path: the unit of work hands the committed records to `publish_committed`;
- trace: each record keeps the trace context its use case ran in, so the publish
  (a PRODUCER span, whose context goes out in `traceparent`/`tracestate` headers)
  belongs to that trace even when the sweeper publishes it after a crash;
- crash path: `sweep()` publishes records older than a grace period (after a
  crash or a NATS outage), on a timer, and sooner when a change stream on the
  outbox says another process committed something (where the server has change
  streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import orjson
from faststream.nats import NatsBroker
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import CONTENT_TYPE, wrap
from weft_shared.contracts.subjects import subject_for
from weft_shared.periodic import Periodic
from weft_shared.settings import PlatformSettings
from weft_shared.storage.client import ensure_collection
from weft_shared.tracing import current_carrier, extract, inject

log = logging.getLogger("weft.outbox")

Doc = dict[str, Any]
OUTBOX = "outbox"
VERSIONS = "outbox_versions"


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message a use case wants sent, before it has a version."""

    id: str
    subject: str
    body: Doc


class MessageFactory:
    """Builds announcements (CloudEvents envelopes) for one service."""

    def __init__(self, platform: PlatformSettings, source: str) -> None:
        self.prefix = platform.subject_prefix
        self.source = source

    def announcement(
        self, payload: MessagePayload, *, community_id: str | None, message_id: str | None = None
    ) -> Announcement:
        subject = subject_for(self.prefix, type(payload), community_id)
        envelope = wrap(
            payload, source=self.source, subject=community_id, community_id=community_id, message_id=message_id
        )
        return Announcement(envelope.id, subject, envelope.model_dump(mode="json"))


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: str
    aggregate: str
    version: int
    subject: str
    body: Doc
    trace: dict[str, str] = field(default_factory=dict)  # W3C headers of the announcing use case

    @classmethod
    def from_doc(cls, doc: Doc) -> OutboxRecord:
        return cls(doc["_id"], doc["aggregate"], doc["version"], doc["subject"], doc["body"], doc.get("trace") or {})


class Outbox:
    """The service's `outbox` collection and its per-aggregate version counters."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.records: AsyncCollection[Doc] = db[OUTBOX]
        self.versions: AsyncCollection[Doc] = db[VERSIONS]

    async def create_indexes(self) -> None:
        await self.records.create_index([("aggregate", ASCENDING), ("version", ASCENDING)], unique=True)
        await self.records.create_index("created_at")
        await ensure_collection(self.versions)

    async def add(
        self, session: AsyncClientSession, announced: Sequence[tuple[str, Announcement]]
    ) -> list[OutboxRecord]:
        """Write the records of one transaction, numbering each aggregate's messages."""
        records: list[OutboxRecord] = []
        now = datetime.now(UTC)
        carrier = current_carrier()
        ordered = sorted(enumerate(announced), key=lambda item: (item[1][0], item[0]))  # stable per aggregate
        for aggregate, group in groupby(ordered, key=lambda item: item[1][0]):
            items = [a for _, (_, a) in group]
            counter = await self.versions.find_one_and_update(
                {"_id": aggregate},
                {"$inc": {"version": len(items)}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            first = int(counter["version"]) - len(items) + 1 if counter else 1
            for offset, item in enumerate(items):
                version = first + offset
                body = {**item.body, "aggregate": aggregate, "aggregateversion": version}
                records.append(OutboxRecord(item.id, aggregate, version, item.subject, body, carrier))
        if records:
            await self.records.insert_many(
                [
                    {
                        "_id": r.id,
                        "aggregate": r.aggregate,
                        "version": r.version,
                        "subject": r.subject,
                        "body": r.body,
                        "trace": r.trace,
                        "created_at": now,
                    }
                    for r in records
                ],
                ordered=True,
                session=session,
            )
        return records

    async def has_earlier(self, aggregate: str, version: int) -> bool:
        found = await self.records.find_one(
            {"aggregate": aggregate, "version": {"$lt": version}}, projection={"_id": 1}
        )
        return found is not None

    async def later(self, aggregate: str, version: int, *, limit: int = 100) -> list[OutboxRecord]:
        cursor = self.records.find({"aggregate": aggregate, "version": {"$gt": version}})
        return [OutboxRecord.from_doc(d) for d in await cursor.sort("version", ASCENDING).limit(limit).to_list()]

    async def stale(self, older_than: datetime, *, limit: int = 500) -> list[OutboxRecord]:
        cursor = self.records.find({"created_at": {"$lt": older_than}})
        docs = await cursor.sort("created_at", ASCENDING).limit(limit).to_list()
        return [OutboxRecord.from_doc(d) for d in docs]

    async def remove(self, record_id: str) -> None:
        await self.records.delete_one({"_id": record_id})

    async def pending_count(self) -> int:
        return await self.records.count_documents({})

    async def oldest_created_at(self) -> datetime | None:
        """When the oldest unpublished record was committed (reads the `created_at` index)."""
        doc = await self.records.find_one({}, projection={"created_at": 1}, sort=[("created_at", ASCENDING)])
        return doc["created_at"] if doc else None


class OutboxRelay:
    def __init__(
        self,
        broker: NatsBroker,
        platform: PlatformSettings,
        outbox: Outbox,
        *,
        sweep_interval: float = 1.0,
        grace: timedelta = timedelta(seconds=2),
        publish_timeout: float = 5.0,
        crash_before_publish: bool = False,
        tracer: Tracer | None = None,
    ) -> None:
        self._broker = broker
        self._tracer = tracer or trace.get_tracer("weft")
        self._stream = platform.stream_name
        self._outbox = outbox
        self._publish_timeout = publish_timeout
        self._grace = grace
        # Test hook: die between the commit and the publish, like a crash would.
        self._crash_before_publish = crash_before_publish
        self._sweeper = Periodic(
            "outbox sweeper", self.sweep, sweep_interval, report="published %d leftover message(s)"
        )
        self._watcher: asyncio.Task[None] | None = None
        self._early_sweep: asyncio.Task[None] | None = None

    def _connected(self) -> bool:
        try:
            return bool(self._broker.connection.is_connected)
        except Exception:  # never connected yet (FastStream has no connection to give)
            return False

    async def publish_committed(self, records: Sequence[OutboxRecord]) -> None:
        """Fast path, right after the commit. Never raises: whatever fails stays
        in the outbox for the sweeper. While NATS is away it does not try: the
        write is committed, and its caller (a request, or the writers queued behind
        it on a hot aggregate) should not wait out a publish timeout for nothing."""
        if not records:
            return
        if self._crash_before_publish:
            log.critical("crash hook: exiting between commit and publish")
            os._exit(70)
        if not self._connected():
            log.info("NATS unavailable: %d message(s) left to the outbox sweeper", len(records))
            return
        for aggregate, group in groupby(sorted(records, key=lambda r: (r.aggregate, r.version)), lambda r: r.aggregate):
            try:
                await self._publish_in_order(aggregate, list(group))
            except Exception as exc:  # NATS down, timeouts: the sweeper retries
                log.warning("outbox publish deferred: %s", exc, extra={"fields": {"aggregate": aggregate}})

    async def _publish_in_order(self, aggregate: str, records: list[OutboxRecord]) -> int:
        """Publish `records` (one aggregate, ascending versions) and then any later
        ones of the aggregate — unless an older record is still pending, whose
        publisher will carry on with these."""
        if await self._outbox.has_earlier(aggregate, records[0].version):
            return 0
        published = 0
        while records:
            for record in records:
                await self._publish(record)
                await self._outbox.remove(record.id)
                published += 1
            records = await self._outbox.later(aggregate, records[-1].version)
        return published

    async def _publish(self, record: OutboxRecord) -> None:
        # Named by message type, not subject: subjects carry community ids.
        with self._tracer.start_as_current_span(
            f"send {record.body.get('type', record.subject)}",
            context=extract(record.trace),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": record.subject,
                "messaging.message.id": record.id,
            },
        ):
            headers = {"Nats-Msg-Id": record.id, "content-type": CONTENT_TYPE}
            await self._broker.publish(
                orjson.dumps(record.body),
                record.subject,
                headers=dict(inject(headers)),
                stream=self._stream,
                timeout=self._publish_timeout,
            )

    async def sweep(self, grace: timedelta | None = None) -> int:
        """Publish records the fast path did not (a crash, NATS away), oldest aggregate first."""
        if not self._connected():
            return 0  # the next sweep after the reconnect publishes them
        stale = await self._outbox.stale(datetime.now(UTC) - (self._grace if grace is None else grace))
        lowest: dict[str, OutboxRecord] = {}
        for record in stale:  # oldest first; keep each aggregate's lowest version
            held = lowest.setdefault(record.aggregate, record)
            if record.version < held.version:
                lowest[record.aggregate] = record
        published = 0
        for aggregate, record in lowest.items():
            published += await self._publish_in_order(aggregate, [record])
        return published

    def start(self) -> None:
        self._sweeper.start()
        self._watcher = asyncio.create_task(self._watch_outbox(), name="outbox watcher")

    async def stop(self) -> int:
        """Stop sweeping, after a last flush of every pending record (however new: the
        process's own writers have stopped). Returns how many it published."""
        for task in (self._watcher, self._early_sweep):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = self._early_sweep = None
        await self._sweeper.stop()
        try:
            return await self.sweep(grace=timedelta(0))
        except Exception as exc:  # NATS or the database away: the next process's sweeper publishes them
            log.warning("outbox: last flush failed, records stay for the next start: %s", exc)
            return 0

    async def _watch_outbox(self) -> None:
        """Sweep soon after another process commits records, instead of waiting for
        the timer: a change stream of outbox inserts. Without change streams (or
        if it breaks), the timer alone does the work."""
        while True:
            try:
                stream = await self._outbox.records.watch([{"$match": {"operationType": "insert"}}])
                async with stream:
                    async for _change in stream:
                        self._sweep_after_grace()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("outbox change stream unavailable (%s); relying on the timer", exc)
                await asyncio.sleep(30)

    def _sweep_after_grace(self) -> None:
        if self._early_sweep is not None and not self._early_sweep.done():
            return

        async def later() -> None:
            await asyncio.sleep(self._grace.total_seconds() + 0.1)
            try:
                await self.sweep()
            except Exception as exc:
                log.warning("outbox sweep failed, the timer retries: %s", exc)

        self._early_sweep = asyncio.create_task(later(), name="outbox early sweep")
