"""The moderation log: one entry per moderator action, per community. Append-only and
kept for audit: nothing here updates or deletes an entry, and removing content leaves
its entries (with what the removal took out of it) in place."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session


class ModerationLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.entries: AsyncCollection[Doc] = db.moderation_log

    async def create_indexes(self) -> None:
        # A community's log, newest first (`_id`: an ObjectId string, in creation order).
        await self.entries.create_index([("community_id", ASCENDING), ("log_key", DESCENDING)])

    async def append(self, entry: Doc) -> None:
        await self.entries.insert_one({**entry, "log_key": entry["_id"]}, session=current_session())

    async def page(self, community_id: str, *, before: str | None, limit: int) -> list[Doc]:
        """Newest first; `limit + 1` entries to tell whether a next page exists."""
        query: Doc = {"community_id": community_id}
        if before is not None:
            query["log_key"] = {"$lt": before}
        cursor = self.entries.find(query, session=current_session()).sort([("log_key", DESCENDING)])
        return await cursor.limit(limit + 1).to_list()
