"""What the thread and reply stores share: a post's insert, read and update, each of
which tells search of the change it must see, in the writing transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

# The fields whose change search must see.
SEARCHED = frozenset({"title", "body_markdown", "moderation", "chatham_house"})


class Posts:
    """`touch` is told, in the writing transaction, of every change search shows (the text,
    the title, moderation): not of counters, so a busy thread is not re-indexed per reply."""

    def __init__(self, collection: AsyncCollection[Doc], touch: Callable[[str], Awaitable[None]]) -> None:
        self.collection = collection
        self.touch = touch

    async def insert(self, post: Doc) -> None:
        await self.collection.insert_one(post, session=current_session())
        await self.touch(post["_id"])

    async def get(self, post_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": post_id}, session=current_session())

    async def update(self, post_id: str, *, fields: Doc | None = None, inc: Doc | None = None) -> Doc | None:
        """Set `fields` and add `inc`; the post as it is afterwards (None if unknown)."""
        change: Doc = {}
        if fields:
            change["$set"] = fields
        if inc:
            change["$inc"] = inc
        written = await self.collection.find_one_and_update(
            {"_id": post_id}, change, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is not None and fields and SEARCHED.intersection(fields):
            await self.touch(post_id)
        return written
