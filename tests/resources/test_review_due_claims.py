"""The review-due claim below the API, on a database and stream of the test's own:
two job replicas racing over the same due items announce each date once (checked on
the stream, with distinct items so the stream's dedupe hides nothing), an archived
item is taken out of review without a message, and a restarted job finds nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.bus import stream_messages
from tests.support.isolated import isolated
from weft_resources.jobs.review_due import ReviewDueJob
from weft_resources.settings import ResourcesSettings
from weft_resources.storage import ResourcesStorage
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.resources import ResourceReviewDue
from weft_shared.contracts.subjects import type_wildcard
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import UnitOfWork

Doc = dict[str, Any]


def millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class Rig:
    platform: PlatformSettings
    db: AsyncDatabase[Doc]
    client: AsyncMongoClient[Doc]
    outbox: Outbox
    broker: NatsBroker

    def relay(self, broker: NatsBroker | None = None) -> OutboxRelay:
        # No grace: a test sweeps exactly when it means to.
        return OutboxRelay(broker or self.broker, self.platform, self.outbox, grace=timedelta(0))

    def context(self, relay: OutboxRelay | None = None) -> ResourcesContext:
        """A fresh one: what another replica (or a restarted process) would have."""
        relay = relay or self.relay()
        uow = UnitOfWork(self.client, self.outbox, MessageFactory(self.platform, "/weft/resources"), relay)
        return ResourcesContext(uow, ResourcesStorage(self.db), ResourcesSettings(platform=self.platform))

    async def review_dues(self) -> list[ResourceReviewDue]:
        subject = type_wildcard(self.platform.subject_prefix, ResourceReviewDue)
        found = await stream_messages(self.platform.nats_url, subject, stream=self.platform.stream_name)
        return [ResourceReviewDue.model_validate(m.body["data"]) for m in found]


@pytest.fixture
async def rig(nats_server: Any, database: Any) -> AsyncIterator[Rig]:
    async with isolated(nats_server.url, database.url, "resources_review") as env:
        outbox = Outbox(env.db)
        await outbox.create_indexes()
        await ResourcesStorage(env.db).create_indexes()
        broker = create_broker(env.platform, client_name="test-resources")
        await broker.connect()
        try:
            yield Rig(env.platform, env.db, env.client, outbox, broker)
        finally:
            await broker.stop()


def stored_item(n: int, review_by: datetime, **fields: Any) -> Doc:
    """A library item as DOCUMENTS.md describes `resources`, with a review-by date armed."""
    moment = millis(datetime.now(UTC))
    return {
        "_id": f"r{n:03}",
        "community_id": "c1",
        "kind": "note",
        "title": f"Checklist {n}",
        "summary": "",
        "tags": [],
        "authors": [],
        "licence": None,
        "source": None,
        "visibility": "community",
        "status": "published",
        "note_markdown": "text",
        "note_html": "<p>text</p>",
        "version": 1,
        "shared_with": [],
        "review_by": review_by,
        "review_next": review_by,
        "review_due_for": None,
        "endorsed": None,
        "useful_count": 0,
        "created_by": "ana",
        "created_at": moment,
        "updated_by": "ana",
        "updated_at": moment,
        **fields,
    }


async def test_two_replicas_racing_claim_each_date_once(rig: Rig) -> None:
    due = millis(datetime.now(UTC) - timedelta(minutes=1))
    docs = [stored_item(n, due + timedelta(milliseconds=n)) for n in range(20)]
    archived = stored_item(99, due, status="archived")
    not_yet = stored_item(98, due + timedelta(days=1))
    await rig.db.resources.insert_many([*docs, archived, not_yet])
    replicas = [ReviewDueJob(rig.context(), poll_interval=0.02) for _ in range(2)]

    announced = await asyncio.gather(*(r.run_once() for r in replicas))
    for replica in replicas:  # and their loops, racing over what is left (nothing)
        replica.start()
    await asyncio.sleep(0.5)
    for replica in replicas:
        await replica.stop()

    assert sum(announced) == len(docs)
    told = Counter(p.resource.id for p in await rig.review_dues())
    assert told == {d["_id"]: 1 for d in docs}
    held_back = await rig.db.resources.find_one({"_id": archived["_id"]})
    assert held_back is not None and held_back["review_next"] is None and not held_back.get("review_due")
    waiting = await rig.db.resources.find_one({"_id": not_yet["_id"]})
    assert waiting is not None and waiting["review_next"] == not_yet["review_by"]
    assert await ReviewDueJob(rig.context(), poll_interval=1).run_once() == 0  # a restart: nothing more


async def test_an_item_that_cannot_be_claimed_does_not_hold_up_the_rest(rig: Rig) -> None:
    due = millis(datetime.now(UTC) - timedelta(minutes=5))
    broken = stored_item(1, due)
    del broken["title"]  # a document its message cannot be built from: its claim fails every time
    fine = stored_item(2, due + timedelta(seconds=1))
    await rig.db.resources.insert_many([broken, fine])

    assert await ReviewDueJob(rig.context(), poll_interval=1).run_once() == 1
    assert [p.resource.id for p in await rig.review_dues()] == [fine["_id"]]
    left = await rig.db.resources.find_one({"_id": broken["_id"]})
    assert left is not None and left["review_next"] == due  # rolled back: still armed, retried next poll


async def test_a_crash_between_claim_and_publish_still_announces_once(rig: Rig) -> None:
    due = millis(datetime.now(UTC) - timedelta(minutes=1))
    doc = stored_item(1, due)
    await rig.db.resources.insert_one(doc)
    # A broker that never connected: the publish fails as if the process died right after
    # its commit. The message waits in the outbox.
    dead_broker = create_broker(rig.platform, client_name="never-connected")
    assert await ReviewDueJob(rig.context(rig.relay(dead_broker)), poll_interval=1).run_once() == 1
    assert await rig.outbox.pending_count() == 1
    assert await rig.review_dues() == []

    restarted = rig.relay()
    assert await ReviewDueJob(rig.context(restarted), poll_interval=1).run_once() == 0  # claimed: nothing more
    assert await restarted.sweep() == 1
    assert [p.resource.id for p in await rig.review_dues()] == [doc["_id"]]
    assert await rig.outbox.pending_count() == 0
