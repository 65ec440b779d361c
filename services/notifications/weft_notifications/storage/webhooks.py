"""Webhook subscriptions, their delivery queues and deliveries.

- `webhooks`: one document per subscription; `scope` is its community's id, or
  `network`. Holds the signing secret (and the one before a rotation, until
  `previous_secret_until`) and `failing_since`, the start of its current run of failures.
- `webhook_deliveries`: one document per message per subscription, written in the
  message's transaction. `seq` is the message's stream sequence: an endpoint gets
  its deliveries in that order. `log_key` copies `_id` so the delivery log pages on
  a field both planners serve (SecantusDB's py planner scans for a sort on `_id`).
  A message's transaction only inserts them, marked `unscheduled`; the delivery job
  then puts them on their queues, one small transaction per endpoint.
- `webhook_queues`: one small document per subscription saying when its next
  delivery is due (`due_at`; `IDLE` when nothing is). Whoever queues deliveries and
  the sender handing the queue back both write it in their transactions, so they
  serialise on it (a write conflict retries one) and no delivery is left unscheduled.
- `webhook_leases`: which replica sends to a subscription (`leased_by` until
  `lease_until`). Apart from the queue, so taking and renewing a lease never
  conflicts with the transactions recording messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
# "Nothing due": later than any real time, so `$min` with a real time makes a queue due.
IDLE = datetime(9999, 1, 1, tzinfo=UTC)
NEVER_LEASED = datetime(1970, 1, 1, tzinfo=UTC)


class Webhooks:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.subscriptions: AsyncCollection[Doc] = db.webhooks
        self.queues: AsyncCollection[Doc] = db.webhook_queues
        self.deliveries: AsyncCollection[Doc] = db.webhook_deliveries
        self.leases: AsyncCollection[Doc] = db.webhook_leases

    async def create_indexes(self) -> None:
        await self.subscriptions.create_index([("scope", ASCENDING), ("enabled", ASCENDING)])
        await self.subscriptions.create_index([("scope", ASCENDING), ("log_key", DESCENDING)])
        await self.queues.create_index([("due_at", ASCENDING)])
        await self.deliveries.create_index(
            [("webhook_id", ASCENDING), ("status", ASCENDING), ("seq", ASCENDING), ("log_key", ASCENDING)]
        )
        await self.deliveries.create_index([("webhook_id", ASCENDING), ("log_key", DESCENDING)])
        await self.deliveries.create_index([("webhook_id", ASCENDING), ("message_id", ASCENDING)], unique=True)
        await self.deliveries.create_index(
            [("unscheduled", ASCENDING), ("log_key", ASCENDING)], partialFilterExpression={"unscheduled": True}
        )
        await ensure_collection(self.leases)  # only `_id` lookups; must exist before a transaction writes it

    # -- subscriptions --------------------------------------------------------------

    async def insert(self, doc: Doc) -> None:
        session = current_session()
        await self.subscriptions.insert_one({**doc, "log_key": doc["_id"]}, session=session)
        await self.queues.insert_one({"_id": doc["_id"], "due_at": IDLE, "recorded": 0}, session=session)
        await self.leases.insert_one(
            {"_id": doc["_id"], "lease_until": NEVER_LEASED, "leased_by": None}, session=session
        )

    async def get(self, webhook_id: str) -> Doc | None:
        return await self.subscriptions.find_one({"_id": webhook_id}, session=current_session())

    async def in_scope(self, scope: str, webhook_id: str) -> Doc | None:
        return await self.subscriptions.find_one({"_id": webhook_id, "scope": scope}, session=current_session())

    async def page(self, scope: str, *, before: str | None, limit: int) -> list[Doc]:
        """Newest first."""
        query: Doc = {"scope": scope}
        if before is not None:
            query["log_key"] = {"$lt": before}
        cursor = self.subscriptions.find(query, session=current_session()).sort([("log_key", DESCENDING)])
        return await cursor.limit(limit).to_list()

    async def update(self, webhook_id: str, changes: Doc) -> Doc | None:
        return await self.subscriptions.find_one_and_update(
            {"_id": webhook_id}, {"$set": changes}, return_document=ReturnDocument.AFTER, session=current_session()
        )

    async def delete(self, webhook_id: str) -> None:
        session = current_session()
        await self.subscriptions.delete_one({"_id": webhook_id}, session=session)
        await self.queues.delete_one({"_id": webhook_id}, session=session)
        await self.leases.delete_one({"_id": webhook_id}, session=session)
        await self.deliveries.delete_many({"webhook_id": webhook_id}, session=session)

    async def enabled_in(self, scope: str) -> list[Doc]:
        query = {"scope": scope, "enabled": True}
        projection = {"types": 1, "scope": 1}
        return await self.subscriptions.find(query, projection=projection, session=current_session()).to_list()

    # -- deliveries -----------------------------------------------------------------

    async def record(self, deliveries: Sequence[Doc]) -> None:
        """Store a message's deliveries, `unscheduled`: the delivery job puts them on their
        endpoints' queues (`schedule`). The message's transaction writes no queue document,
        so it never conflicts with the senders handing queues back."""
        if deliveries:
            docs = [{**d, "log_key": d["_id"], "unscheduled": True} for d in deliveries]
            await self.deliveries.insert_many(docs, session=current_session())

    async def record_due(self, deliveries: Sequence[Doc], at: datetime) -> None:
        """Store deliveries and make their endpoints due now (one endpoint's: a test ping)."""
        if deliveries:
            docs = [{**d, "log_key": d["_id"]} for d in deliveries]
            await self.deliveries.insert_many(docs, session=current_session())
            await self.make_due([d["webhook_id"] for d in deliveries], at)

    async def unscheduled(self, limit: int) -> list[Doc]:
        """Deliveries not yet on their endpoint's queue, oldest first."""
        query = {"unscheduled": True}
        projection = {"webhook_id": 1}
        cursor = self.deliveries.find(query, projection=projection, session=current_session())
        return await cursor.sort([("unscheduled", ASCENDING), ("log_key", ASCENDING)]).limit(limit).to_list()

    async def schedule(self, webhook_id: str, delivery_ids: Sequence[str], at: datetime) -> None:
        """Put these deliveries (of this endpoint: `unscheduled` gave them) on the endpoint's
        queue, in the caller's transaction. By `_id` alone: the shape every planner reads."""
        await self.deliveries.update_many(
            {"_id": {"$in": list(delivery_ids)}},
            {"$unset": {"unscheduled": ""}},
            session=current_session(),
        )
        await self.make_due([webhook_id], at)

    async def make_due(self, webhook_ids: Sequence[str], at: datetime) -> None:
        # `$inc` makes this a write even when `due_at` doesn't change: the conflict point.
        await self.queues.bulk_write(
            [UpdateOne({"_id": w}, {"$min": {"due_at": at}, "$inc": {"recorded": 1}}) for w in webhook_ids],
            ordered=False,
            session=current_session(),
        )

    async def delivery(self, webhook_id: str, delivery_id: str) -> Doc | None:
        return await self.deliveries.find_one({"_id": delivery_id, "webhook_id": webhook_id}, session=current_session())

    async def delivery_page(self, webhook_id: str, *, before: str | None, limit: int) -> list[Doc]:
        query: Doc = {"webhook_id": webhook_id}
        if before is not None:
            query["log_key"] = {"$lt": before}
        projection = {"body": 0}
        cursor = self.deliveries.find(query, projection=projection, session=current_session())
        return await cursor.sort([("log_key", DESCENDING)]).limit(limit).to_list()

    async def pending(self, webhook_id: str, limit: int) -> list[Doc]:
        """The endpoint's pending deliveries in the order of their messages."""
        query = {"webhook_id": webhook_id, "status": "pending"}
        cursor = self.deliveries.find(query, session=current_session())
        return await cursor.sort([("seq", ASCENDING), ("log_key", ASCENDING)]).limit(limit).to_list()

    async def head(self, webhook_id: str) -> Doc | None:
        """The endpoint's next delivery: its pending one of the earliest message."""
        docs = await self.pending(webhook_id, 1)
        return docs[0] if docs else None

    async def update_delivery(self, delivery_id: str, changes: Doc) -> Doc | None:
        return await self.deliveries.find_one_and_update(
            {"_id": delivery_id}, {"$set": changes}, return_document=ReturnDocument.AFTER, session=current_session()
        )

    # -- the sender's queue -----------------------------------------------------------

    async def due_queues(self, at: datetime, limit: int) -> list[str]:
        cursor = self.queues.find({"due_at": {"$lte": at}}, projection={"_id": 1}, session=current_session())
        return [d["_id"] for d in await cursor.sort([("due_at", ASCENDING)]).limit(limit).to_list()]

    async def claim(self, webhook_id: str, holder: str, at: datetime, until: datetime) -> bool:
        """Take the endpoint for `holder` if nobody holds it (one replica at a time)."""
        taken = await self.leases.find_one_and_update(
            {"_id": webhook_id, "lease_until": {"$lte": at}},
            {"$set": {"lease_until": until, "leased_by": holder}},
            projection={"_id": 1},
            session=current_session(),
        )
        return taken is not None

    async def renew(self, webhook_id: str, holder: str, until: datetime) -> bool:
        renewed = await self.leases.update_one(
            {"_id": webhook_id, "leased_by": holder}, {"$set": {"lease_until": until}}, session=current_session()
        )
        return renewed.matched_count == 1

    async def holds(self, webhook_id: str, holder: str) -> bool:
        lease = await self.leases.find_one({"_id": webhook_id}, projection={"leased_by": 1}, session=current_session())
        return lease is not None and lease.get("leased_by") == holder

    async def release(self, webhook_id: str, holder: str, due_at: datetime) -> None:
        """Hand the queue back (in the caller's transaction, with `holds`)."""
        session = current_session()
        await self.queues.update_one({"_id": webhook_id}, {"$set": {"due_at": due_at}}, session=session)
        await self.leases.update_one(
            {"_id": webhook_id, "leased_by": holder},
            {"$set": {"lease_until": NEVER_LEASED, "leased_by": None}},
            session=session,
        )
