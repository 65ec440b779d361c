"""Replies (`replies`): one document per reply, numbered 1, 2, 3… in its thread.

The next position is the thread's `reply_count` + 1, taken in the transaction that
increments it, so two replies racing conflict on the thread and one retries; the
unique (thread_id, position) index says so and serves the thread's pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_resources.storage.posts import Posts
from weft_shared.storage.unit_of_work import current_session


class Replies(Posts):
    def __init__(self, db: AsyncDatabase[Doc], touch: Callable[[str], Awaitable[None]]) -> None:
        super().__init__(db.replies, touch)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("thread_id", ASCENDING), ("position", ASCENDING)], unique=True)

    async def many(self, reply_ids: Sequence[str]) -> dict[str, Doc]:
        """The replies with these ids, by id (the ones a page quotes)."""
        if not reply_ids:
            return {}
        query = {"_id": {"$in": sorted(set(reply_ids))}}
        return {d["_id"]: d for d in await self.collection.find(query, session=current_session()).to_list()}

    async def page(self, thread_id: str, after_position: int, *, limit: int) -> list[Doc]:
        """Up to `limit` replies in order, after `after_position`."""
        query = {"thread_id": thread_id, "position": {"$gt": after_position}}
        cursor = self.collection.find(query, session=current_session()).sort("position", ASCENDING)
        return await cursor.limit(limit).to_list()
