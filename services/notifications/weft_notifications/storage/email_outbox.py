"""Mails to send: one record per notification that goes out by email, written in
the transaction that creates the notification, so a mail is never lost and never
queued twice (`_id` is the inbox item's id). A sender job takes them from here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class EmailOutbox:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.email_outbox

    async def create_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])

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

    async def enqueue_addressed(self, record_id: str, to: str, fields: Doc, now: datetime) -> None:
        """Queue a mail to an explicit address with no inbox item behind it (an invitation
        to an address with no account): the record carries its own type, title, text,
        community and link."""
        record = {
            "_id": record_id,
            "user_id": None,
            "to": to,
            "notification_id": None,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            **fields,
        }
        await self.collection.insert_one(record, session=current_session())
