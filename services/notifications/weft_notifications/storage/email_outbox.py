"""Mails to send: one record per notification that goes out by email, written in
the transaction that creates the notification, so a mail is never lost and never
queued twice (`_id` is the inbox item's id). A sender job takes them from here.

{_id, user_id, notification_id | digest: {kind, period, items} | to + notice,
 status: pending | sending | sent | failed, attempts, next_attempt_at,
 claim, lease_until (while sending), last_error, sent_at | failed_at, created_at}

A sender claims a record with one atomic findAndModify (`pending` and due, or
`sending` with a lapsed lease), so two replicas never hold one record; every later
write names the claim, so a sender whose lease lapsed cannot overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class EmailOutbox:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.email_outbox

    async def create_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await self.collection.create_index([("status", ASCENDING), ("lease_until", ASCENDING)])

    async def count_with_status(self, status: str) -> int:
        """How many records are in `status` (for the queue gauges; reads the status index)."""
        return await self.collection.count_documents({"status": status})

    async def enqueue(self, items: Sequence[Doc], now: datetime) -> None:
        """Queue a mail for each of these inbox items."""
        if not items:
            return
        records = [
            {
                "_id": item["_id"],
                "user_id": item["user_id"],
                "notification_id": item["_id"],
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for item in items
        ]
        await self.collection.insert_many(records, ordered=False, session=current_session())

    async def enqueue_record(self, record: Doc) -> None:
        """Queue one mail that is not an inbox item's (a digest)."""
        await self.collection.insert_one(record, session=current_session())

    async def claim_due(self, at: datetime, claim: str, lease_until: datetime) -> Doc | None:
        """Take the next due pending mail, or one whose sender's lease lapsed (it died sending)."""
        hold = {"$set": {"status": "sending", "claim": claim, "lease_until": lease_until}}
        due = await self.collection.find_one_and_update(
            {"status": "pending", "next_attempt_at": {"$lte": at}},
            hold,
            sort=[("next_attempt_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )
        if due is not None:
            return due
        # Two queries, not an `$or`: each reads its own index (SecantusDB scans on `$or`).
        return await self.collection.find_one_and_update(
            {"status": "sending", "lease_until": {"$lte": at}},
            hold,
            sort=[("lease_until", ASCENDING)],
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )

    async def _settle(self, record_id: str, claim: str, change: Doc) -> bool:
        result = await self.collection.update_one(
            {"_id": record_id, "status": "sending", "claim": claim},
            {**change, "$unset": {"claim": "", "lease_until": ""}},
            session=current_session(),
        )
        return result.modified_count == 1

    async def mark_sent(self, record_id: str, claim: str, at: datetime) -> bool:
        return await self._settle(
            record_id, claim, {"$set": {"status": "sent", "sent_at": at}, "$inc": {"attempts": 1}}
        )

    async def mark_retry(self, record_id: str, claim: str, next_attempt_at: datetime, error: str) -> bool:
        change = {
            "$set": {"status": "pending", "next_attempt_at": next_attempt_at, "last_error": error},
            "$inc": {"attempts": 1},
        }
        return await self._settle(record_id, claim, change)

    async def mark_failed(self, record_id: str, claim: str, at: datetime, error: str, *, attempted: bool) -> bool:
        change: Doc = {"$set": {"status": "failed", "failed_at": at, "last_error": error}}
        if attempted:
            change["$inc"] = {"attempts": 1}
        return await self._settle(record_id, claim, change)

    async def record(self, record_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": record_id}, session=current_session())

    async def enqueue_addressed(self, record_id: str, to: str, notice: Doc, now: datetime) -> None:
        """Queue a mail to an explicit address with no inbox item behind it (an invitation
        to an address with no account): the record carries its own `notice` (type, title,
        text, community_id, target, link)."""
        record = {
            "_id": record_id,
            "user_id": None,
            "to": to,
            "notification_id": None,
            "notice": notice,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        await self.collection.insert_one(record, session=current_session())
