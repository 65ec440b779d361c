"""Replies (`replies`): one document per reply, numbered 1, 2, 3… in its thread.

The next position is the thread's `reply_count` + 1, taken in the transaction that
increments it, so two replies racing conflict on the thread and one retries; the
unique (thread_id, position) index says so and serves the thread's pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

# The fields whose change search must see.
SEARCHED = frozenset({"title", "body_markdown", "moderation", "chatham_house"})


class Replies:
    """`touch` is told, in the writing transaction, of every change search shows (the text,
    the title, moderation): not of counters, so a busy thread is not re-indexed per reply."""

    def __init__(self, db: AsyncDatabase[Doc], touch: Callable[[str], Awaitable[None]]) -> None:
        self.collection: AsyncCollection[Doc] = db.replies
        self.touch = touch

    async def create_indexes(self) -> None:
        await self.collection.create_index([("thread_id", ASCENDING), ("position", ASCENDING)], unique=True)

    async def insert(self, reply: Doc) -> None:
        await self.collection.insert_one(reply, session=current_session())
        await self.touch(reply["_id"])

    async def get(self, reply_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": reply_id}, session=current_session())

    async def many(self, reply_ids: Sequence[str]) -> dict[str, Doc]:
        """The replies with these ids, by id (the ones a page quotes)."""
        if not reply_ids:
            return {}
        query = {"_id": {"$in": sorted(set(reply_ids))}}
        return {d["_id"]: d for d in await self.collection.find(query, session=current_session()).to_list()}

    async def update(self, reply_id: str, *, fields: Doc | None = None, inc: Doc | None = None) -> Doc | None:
        change: Doc = {}
        if fields:
            change["$set"] = fields
        if inc:
            change["$inc"] = inc
        written = await self.collection.find_one_and_update(
            {"_id": reply_id}, change, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is not None and fields and SEARCHED.intersection(fields):
            await self.touch(reply_id)
        return written

    async def page(self, thread_id: str, after_position: int, *, limit: int) -> list[Doc]:
        """Up to `limit` replies in order, after `after_position`."""
        query = {"thread_id": thread_id, "position": {"$gt": after_position}}
        cursor = self.collection.find(query, session=current_session()).sort("position", ASCENDING)
        return await cursor.limit(limit).to_list()
