"""Transactional outbox without multi-document transactions.

A state change and the messages announcing it are ONE single-document write:
the messages ride in the changed document's `outbox` array, which MongoDB (and
FerretDB) apply atomically. The relay then publishes each pending message with
`Nats-Msg-Id` = message id (JetStream drops duplicates inside its window),
waits for the PubAck and only then removes it from the document.

- fast path: the service calls `relay.flush(collection, doc)` right after its write;
- crash path: `sweep()` finds documents whose messages are still pending once
  their lease has run out (the lease stops replicas and the fast path from
  publishing the same document at the same moment).
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from faststream.nats import NatsBroker
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import CONTENT_TYPE, wrap
from weft_shared.contracts.subjects import subject_for
from weft_shared.periodic import Periodic
from weft_shared.settings import PlatformSettings
from weft_shared.storage import WriteGuard

log = logging.getLogger("weft.outbox")

Doc = Mapping[str, Any]
OUTBOX = "outbox"
PENDING = "outbox_pending"
LEASE = "outbox_lease_until"
# How long the fast path owns a fresh write before the sweeper may take over.
FAST_PATH_LEASE = timedelta(seconds=5)
SWEEP_LEASE = timedelta(seconds=10)
# Ids of recently acknowledged messages kept in memory, to avoid publishing them twice.
ACKNOWLEDGED_MEMORY = 10_000


class MessageFactory:
    """Builds outbox entries (CloudEvents envelopes) for one service."""

    def __init__(self, platform: PlatformSettings, source: str) -> None:
        self.prefix = platform.subject_prefix
        self.source = source

    def entry(self, payload: MessagePayload, *, community_id: str | None) -> dict[str, Any]:
        subject = subject_for(self.prefix, type(payload), community_id)
        envelope = wrap(payload, source=self.source, subject=community_id, community_id=community_id)
        return {"id": envelope.id, "subject": subject, "body": envelope.model_dump(mode="json")}


def with_outbox(update: dict[str, Any], entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Add pending messages to a MongoDB update document (same write, same atomicity)."""
    if not entries:
        return update
    merged = {op: dict(fields) for op, fields in update.items()}
    merged.setdefault("$push", {})[OUTBOX] = {"$each": list(entries)}
    merged.setdefault("$set", {}).update({PENDING: True, LEASE: datetime.now(UTC) + FAST_PATH_LEASE})
    return merged


def new_document_outbox(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Outbox fields for a document being inserted with its messages."""
    return {OUTBOX: list(entries), PENDING: True, LEASE: datetime.now(UTC) + FAST_PATH_LEASE}


async def create_outbox_indexes(collection: AsyncCollection[dict[str, Any]]) -> None:
    await collection.create_index([(PENDING, ASCENDING), (LEASE, ASCENDING)], name="outbox_pending_lease")


class OutboxRelay:
    def __init__(
        self,
        broker: NatsBroker,
        platform: PlatformSettings,
        collections: Sequence[AsyncCollection[dict[str, Any]]],
        *,
        sweep_interval: float = 1.0,
        publish_timeout: float = 5.0,
        crash_before_publish: bool = False,
        guard: WriteGuard | None = None,
    ) -> None:
        self._broker = broker
        self._stream = platform.stream_name
        self._collections = list(collections)
        self._publish_timeout = publish_timeout
        # Test hook: die between the database write and the publish, like a crash would.
        self._crash_before_publish = crash_before_publish
        self._sweeper = Periodic(
            "outbox sweeper", self.sweep, sweep_interval, report="published %d leftover message(s)"
        )
        # The relay writes the services' documents too, so it takes the same per-document guard.
        self._guard = guard or WriteGuard()
        self._in_flight: set[str] = set()
        self._acknowledged: OrderedDict[str, None] = OrderedDict()

    async def flush(self, collection: AsyncCollection[dict[str, Any]], doc: Doc | None) -> None:
        """Fast path: publish what `doc` (as just written) carries. Never raises:
        whatever fails stays pending for the sweeper."""
        if not doc or not doc.get(OUTBOX):
            return
        if self._crash_before_publish:
            log.critical("crash hook: exiting between write and publish")
            os._exit(70)
        try:
            await self._publish_and_clear(collection, doc)
        except Exception as exc:  # NATS down, timeouts: the sweeper retries
            log.warning("outbox publish deferred: %s", exc, extra={"fields": {"doc_id": str(doc.get("_id"))}})

    async def _publish_and_clear(self, collection: AsyncCollection[dict[str, Any]], doc: Doc) -> None:
        """Publish the document's pending entries, then remove those known published.

        Concurrent writes to one document each see the others' entries; without
        care every request would publish all of them (JetStream would drop the
        copies, but each costs a round trip). So an entry another task of this
        process is publishing right now is left to that task, and one already
        acknowledged is only removed.
        """
        published: list[dict[str, Any]] = []
        for entry in list(doc.get(OUTBOX) or []):
            entry_id = entry["id"]
            if entry_id in self._acknowledged:
                published.append(entry)
                continue
            if entry_id in self._in_flight:
                continue  # its publisher removes it once acknowledged
            self._in_flight.add(entry_id)
            try:
                await self._broker.publish(
                    orjson.dumps(entry["body"]),
                    entry["subject"],
                    headers={"Nats-Msg-Id": entry_id, "content-type": CONTENT_TYPE},
                    stream=self._stream,
                    timeout=self._publish_timeout,
                )
            finally:
                self._in_flight.discard(entry_id)
            self._remember_acknowledged(entry_id)
            published.append(entry)
        if not published:
            return
        # Remove exactly the published entries (whole-element match: FerretDB ignores
        # query conditions inside $pull); entries appended meanwhile stay.
        async with self._guard.hold(collection.name, doc["_id"]):
            await collection.update_one({"_id": doc["_id"]}, {"$pullAll": {OUTBOX: published}})
            await collection.update_one({"_id": doc["_id"], OUTBOX: {"$size": 0}}, {"$unset": {PENDING: "", LEASE: ""}})

    def _remember_acknowledged(self, entry_id: str) -> None:
        self._acknowledged[entry_id] = None
        if len(self._acknowledged) > ACKNOWLEDGED_MEMORY:
            self._acknowledged.popitem(last=False)  # oldest first: long since removed

    async def sweep(self) -> int:
        """Publish leftovers whose lease ran out (after a crash or a NATS outage)."""
        published = 0
        for collection in self._collections:
            now = datetime.now(UTC)
            candidates = await collection.find({PENDING: True, LEASE: {"$lt": now}}, projection={"_id": 1}).to_list()
            for candidate in candidates:
                doc = await self._claim(collection, candidate["_id"])
                if doc is None:  # the fast path or another replica got there first
                    continue
                await self._publish_and_clear(collection, doc)
                published += len(doc.get(OUTBOX) or [])
        return published

    async def _claim(self, collection: AsyncCollection[dict[str, Any]], doc_id: Any) -> Doc | None:
        now = datetime.now(UTC)
        async with self._guard.hold(collection.name, doc_id):
            return await collection.find_one_and_update(
                {"_id": doc_id, PENDING: True, LEASE: {"$lt": now}},
                {"$set": {LEASE: now + SWEEP_LEASE}},
                return_document=ReturnDocument.AFTER,
            )

    def start(self) -> None:
        self._sweeper.start()

    async def stop(self) -> None:
        await self._sweeper.stop()
