"""Moderation's reads and writes of the content it acts on: threads, replies and library
items, by id. The only writes are of `moderation` ({state, by, at, reason}), a thread's
`locked`, and the text a removal replaces; the discussions and library code own the rest
of those documents (DOCUMENTS.md). Each change of what search may show (a moderation
state, a removal's text) tells the search feed in its transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_resources.domain.moderation import ContentKind
from weft_resources.storage.search_feed import SearchDocType
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session


class ModeratedContent:
    def __init__(self, db: AsyncDatabase[Doc], touch: Callable[[SearchDocType, str], Awaitable[None]]) -> None:
        self.touch = touch
        self.collections: dict[ContentKind, AsyncCollection[Doc]] = {
            ContentKind.THREAD: db.threads,
            ContentKind.REPLY: db.replies,
            ContentKind.RESOURCE: db.resources,
        }

    async def create_indexes(self) -> None:
        for collection in self.collections.values():
            await ensure_collection(collection)

    async def get(self, kind: ContentKind, content_id: str) -> Doc | None:
        return await self.collections[kind].find_one({"_id": content_id}, session=current_session())

    async def many(self, kind: ContentKind, content_ids: list[str]) -> list[Doc]:
        if not content_ids:
            return []
        query = {"_id": {"$in": content_ids}}
        return await self.collections[kind].find(query, session=current_session()).to_list()

    async def set_moderation(self, kind: ContentKind, content_id: str, moderation: Doc, replaced: Doc) -> None:
        """The content's new moderation state, and the text a removal replaces."""
        change = {"moderation": moderation, **replaced}
        await self.collections[kind].update_one({"_id": content_id}, {"$set": change}, session=current_session())
        await self.touch(kind.value, content_id)

    async def set_locked(self, thread_id: str, locked: bool) -> None:
        threads = self.collections[ContentKind.THREAD]
        await threads.update_one({"_id": thread_id}, {"$set": {"locked": locked}}, session=current_session())

    async def withdraw_accepted_answer(self, thread_id: str, reply_id: str) -> None:
        """A hidden or removed reply is no longer its question's accepted answer (the thread
        would otherwise show members the id of a reply they may not see)."""
        threads = self.collections[ContentKind.THREAD]
        await threads.update_one(
            {"_id": thread_id, "accepted_reply_id": reply_id},
            {"$set": {"accepted_reply_id": None}},
            session=current_session(),
        )
