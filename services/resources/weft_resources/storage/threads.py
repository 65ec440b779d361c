"""Threads (`threads`): one document per thread, with its counters (replies, reactions)
and its latest activity, which change in the transaction of the reply or reaction.

A community's list reads (community_id, listed | kind, activity_at, _id) newest first;
a page after a cursor is two queries (the rest of the cursor's instant, then older
instants), so every filter is equalities plus one range on an index.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

# The fields whose change search must see.
SEARCHED = frozenset({"title", "body_markdown", "moderation", "chatham_house"})


def comments_thread_id(resource_id: str) -> str:
    """A library item's comment thread has a natural key: two first reads or comments racing
    upsert one `_id`, so one of them retries and finds the other's thread."""
    return f"comments-{resource_id}"


class Threads:
    """`touch` is told, in the writing transaction, of every change search shows (the text,
    the title, moderation): not of counters, so a busy thread is not re-indexed per reply."""

    def __init__(self, db: AsyncDatabase[Doc], touch: Callable[[str], Awaitable[None]]) -> None:
        self.collection: AsyncCollection[Doc] = db.threads
        self.touch = touch

    async def create_indexes(self) -> None:
        newest = [("activity_at", DESCENDING), ("_id", DESCENDING)]
        await self.collection.create_index([("community_id", ASCENDING), ("listed", ASCENDING), *newest])
        await self.collection.create_index([("community_id", ASCENDING), ("kind", ASCENDING), *newest])
        # One comment thread per library item (the `_id` is already the item's; this says so).
        await self.collection.create_index(
            "resource_id", unique=True, partialFilterExpression={"resource_id": {"$type": "string"}}
        )

    async def insert(self, thread: Doc) -> None:
        await self.collection.insert_one(thread, session=current_session())
        await self.touch(thread["_id"])

    async def get(self, thread_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": thread_id}, session=current_session())

    async def update(self, thread_id: str, *, fields: Doc | None = None, inc: Doc | None = None) -> Doc | None:
        """Set `fields` and add `inc`; the thread as it is afterwards (None if unknown)."""
        change: Doc = {}
        if fields:
            change["$set"] = fields
        if inc:
            change["$inc"] = inc
        written = await self.collection.find_one_and_update(
            {"_id": thread_id}, change, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is not None and fields and SEARCHED.intersection(fields):
            await self.touch(thread_id)
        return written

    async def page(
        self, community_id: str, kind: str | None, after: tuple[datetime, str] | None, *, limit: int
    ) -> list[Doc]:
        """Up to `limit` threads newest activity first, after the cursor's (activity_at, _id).
        Without a kind: the listed threads (every kind but library comments)."""
        scope: Doc = {"community_id": community_id}
        scope.update({"kind": kind} if kind is not None else {"listed": True})
        order = [("activity_at", DESCENDING), ("_id", DESCENDING)]
        session = current_session()
        found: list[Doc] = []
        if after is not None:
            at, last_id = after
            same_instant = {**scope, "activity_at": at, "_id": {"$lt": last_id}}
            found = await self.collection.find(same_instant, session=session).sort(order).limit(limit).to_list()
            older: Doc = {**scope, "activity_at": {"$lt": at}}
        else:
            older = scope
        if len(found) < limit:
            more = self.collection.find(older, session=session).sort(order).limit(limit - len(found))
            found += await more.to_list()
        return found

    # -- comment threads of library items -------------------------------------

    async def open_comments(self, thread: Doc) -> Doc:
        """The item's comment thread, made from `thread` if it has none yet."""
        found = await self.collection.find_one_and_update(
            {"_id": thread["_id"]},
            {"$setOnInsert": {k: v for k, v in thread.items() if k != "_id"}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )
        assert found is not None  # an upsert returning the document after always finds one
        await self.touch(found["_id"])
        return found
