"""Collections: curated, ordered lists of library items (a reading list, a toolkit).

One document per collection holding its ordered item ids (at most 500, so the array
is bounded); an item can be in several collections. `order_key` copies `_id` (ids
sort by creation time) because SecantusDB's Python server scans on a sort by `_id`.
"""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session


class CollectionStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collections: AsyncCollection[Doc] = db.collections

    async def create_indexes(self) -> None:
        # A community's collections, newest first (read backwards).
        await self.collections.create_index([("community_id", ASCENDING), ("order_key", ASCENDING)])

    async def insert(self, doc: Doc) -> None:
        await self.collections.insert_one({**doc, "order_key": doc["_id"]}, session=current_session())

    async def get(self, collection_id: str) -> Doc | None:
        return await self.collections.find_one({"_id": collection_id}, session=current_session())

    async def page(self, community_id: str, *, before: str | None, limit: int) -> list[Doc]:
        """Newest first; without the item lists (a page shows counts)."""
        query: Doc = {"community_id": community_id}
        if before is not None:
            query["order_key"] = {"$lt": before}
        cursor = self.collections.find(query, projection={"item_ids": 0}, session=current_session())
        return await cursor.sort([("order_key", DESCENDING)]).limit(limit).to_list()

    async def update(self, collection_id: str, fields: Doc) -> Doc | None:
        return await self.collections.find_one_and_update(
            {"_id": collection_id}, {"$set": fields}, return_document=ReturnDocument.AFTER, session=current_session()
        )

    async def delete(self, collection_id: str) -> bool:
        removed = await self.collections.delete_one({"_id": collection_id}, session=current_session())
        return bool(removed.deleted_count)
