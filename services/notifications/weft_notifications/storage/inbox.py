"""Inbox items and each person's counters.

One small document per notification per person (`inbox`), and one counter document
per person (`inbox_counters`: `unread`, and `seq`, the number of the last item
they were given). `seq` numbers a person's items 1, 2, 3... in commit order: every
delivery to a person increments their counter in the same transaction as the
item, so two deliveries to one person serialise on that document, and a reader who
has seen item n has seen every item before it. Pages and the live stream's
`Last-Event-ID` are keyed on it.

`(key, user_id)` is unique: `key` names what the item is about (the message id,
or for a series of events the series), so nothing is given twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
# Bounds each `$in` and bulk write: a 10,000-member fan-out is ten of each.
BATCH = 1000


@dataclass(frozen=True, slots=True)
class NewItem:
    """One notification for one person, before it has an id and a number."""

    user_id: str
    channel: str
    fields: Doc  # type, title, text, target, community_id, actor_id, key, created_at


class Inbox:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.items: AsyncCollection[Doc] = db.inbox
        self.counters: AsyncCollection[Doc] = db.inbox_counters

    async def create_indexes(self) -> None:
        await self.items.create_index([("user_id", ASCENDING), ("seq", DESCENDING)], unique=True)
        # Key first: "who of these people already has this notice" is one key and an `$in`.
        await self.items.create_index([("key", ASCENDING), ("user_id", ASCENDING)], unique=True)
        await self.items.create_index([("user_id", ASCENDING), ("read", ASCENDING), ("seq", DESCENDING)])
        await self.items.create_index([("user_id", ASCENDING), ("community_id", ASCENDING), ("seq", DESCENDING)])
        # One community's unread (or read) items, a page at a time; also read-all per community.
        await self.items.create_index(
            [("user_id", ASCENDING), ("community_id", ASCENDING), ("read", ASCENDING), ("seq", DESCENDING)]
        )
        # The communities an item names, for withdrawing items when one becomes hidden.
        await self.items.create_index([("about", ASCENDING), ("_id", ASCENDING)])

    async def already_given(self, key: str, user_ids: Sequence[str]) -> set[str]:
        """Who of `user_ids` already has an item with this key."""
        query = {"key": key, "user_id": {"$in": list(user_ids)}}
        docs = await self.items.find(query, projection={"user_id": 1}, session=current_session()).to_list()
        return {d["user_id"] for d in docs}

    async def deliver(self, new_items: Sequence[NewItem]) -> list[Doc]:
        """Insert the items (at most one per person) and count them; returns the stored documents."""
        session = current_session()
        stored: list[Doc] = []
        for start in range(0, len(new_items), BATCH):
            chunk = new_items[start : start + BATCH]
            users = [item.user_id for item in chunk]
            await self.counters.bulk_write(
                [UpdateOne({"_id": u}, {"$inc": {"unread": 1, "seq": 1}}, upsert=True) for u in users],
                ordered=False,
                session=session,
            )
            seqs = {
                d["_id"]: d["seq"]
                for d in await self.counters.find(
                    {"_id": {"$in": users}}, projection={"seq": 1}, session=session
                ).to_list()
            }
            docs = [
                {
                    "_id": new_id(),
                    "user_id": item.user_id,
                    "seq": seqs[item.user_id],
                    "channel": item.channel,
                    "read": False,
                    **item.fields,
                }
                for item in chunk
            ]
            await self.items.insert_many(docs, ordered=False, session=session)
            stored.extend(docs)
        return stored

    async def items_about(self, community_id: str) -> AsyncIterator[list[Doc]]:
        """Every item naming this community, `BATCH` at a time (keyset on `_id`)."""
        after = ""
        session = current_session()
        while True:
            query = {"about": community_id, "_id": {"$gt": after}}
            projection = {"user_id": 1, "read": 1}
            docs = (
                await self.items.find(query, projection=projection, session=session)
                .sort([("about", ASCENDING), ("_id", ASCENDING)])
                .limit(BATCH)
                .to_list()
            )
            if not docs:
                return
            yield docs
            if len(docs) < BATCH:
                return
            after = docs[-1]["_id"]

    async def withdraw(self, items: Sequence[Doc]) -> int:
        """Delete these items; their people's unread counts drop by the unread ones among them."""
        if not items:
            return 0
        session = current_session()
        await self.items.delete_many({"_id": {"$in": [d["_id"] for d in items]}}, session=session)
        unread: dict[str, int] = {}
        for d in items:
            if not d.get("read"):
                unread[d["user_id"]] = unread.get(d["user_id"], 0) + 1
        if unread:
            updates = [UpdateOne({"_id": u}, {"$inc": {"unread": -n}}) for u, n in unread.items()]
            await self.counters.bulk_write(updates, ordered=False, session=session)
        return len(items)

    # -- reading and marking ------------------------------------------------------

    async def page(
        self,
        user_id: str,
        *,
        before_seq: int | None,
        limit: int,
        unread: bool | None,
        community_id: str | None,
    ) -> list[Doc]:
        """Newest first, keyset on `seq`."""
        query: Doc = {"user_id": user_id}
        if community_id is not None:
            query["community_id"] = community_id
        if unread is not None:
            query["read"] = not unread
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self.items.find(query, session=current_session()).sort([("seq", DESCENDING)]).limit(limit)
        return await cursor.to_list()

    async def after(self, user_id: str, seq: int, limit: int = 100) -> list[Doc]:
        """Items numbered after `seq`, oldest first (the live stream catching up)."""
        query = {"user_id": user_id, "seq": {"$gt": seq}}
        cursor = self.items.find(query, session=current_session()).sort([("seq", ASCENDING)]).limit(limit)
        return await cursor.to_list()

    async def counter(self, user_id: str) -> Doc:
        doc = await self.counters.find_one({"_id": user_id}, session=current_session())
        return doc or {"_id": user_id, "unread": 0, "seq": 0}

    async def item(self, user_id: str, item_id: str) -> Doc | None:
        return await self.items.find_one({"_id": item_id, "user_id": user_id}, session=current_session())

    async def mark_read(self, user_id: str, item_id: str, at: datetime) -> Doc | None:
        """Mark one item read; the counter drops only if it was unread. None: no such item of theirs."""
        session = current_session()
        before = await self.items.find_one_and_update(
            {"_id": item_id, "user_id": user_id, "read": False},
            {"$set": {"read": True, "read_at": at}},
            session=session,
        )
        if before is not None:
            await self.counters.update_one({"_id": user_id}, {"$inc": {"unread": -1}}, session=session)
        return await self.item(user_id, item_id)

    async def mark_all_read(self, user_id: str, at: datetime, community_id: str | None) -> int:
        session = current_session()
        query: Doc = {"user_id": user_id, "read": False}
        if community_id is not None:
            query["community_id"] = community_id
        result = await self.items.update_many(query, {"$set": {"read": True, "read_at": at}}, session=session)
        if result.modified_count:
            await self.counters.update_one(
                {"_id": user_id}, {"$inc": {"unread": -result.modified_count}}, session=session
            )
        return result.modified_count
