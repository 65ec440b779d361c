"""The `communities` collection: one document per community, holding its staff roles."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain.access import Visibility
from weft_membership.storage.documents import Database, Doc, aggregate
from weft_shared.storage.unit_of_work import current_session

LISTED = [Visibility.PUBLIC.value, Visibility.PRIVATE.value]


class Communities:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.communities

    @staticmethod
    def aggregate(community_id: str) -> str:
        return aggregate("communities", community_id)

    async def create_indexes(self) -> None:
        await self.collection.create_index("slug", unique=True, name="slug_unique")
        await self.collection.create_index([("visibility", ASCENDING), ("archived", ASCENDING), ("slug", ASCENDING)])
        await self.collection.create_index("search_terms")
        await self.collection.create_index("tags")

    async def insert(self, doc: Doc) -> None:
        """Raises DuplicateKeyError when the slug is taken."""
        await self.collection.insert_one(doc, session=current_session())

    async def get(self, community_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": community_id}, session=current_session())

    async def set_fields(self, community_id: str, fields: Doc) -> None:
        await self.collection.update_one({"_id": community_id}, {"$set": fields}, session=current_session())

    async def directory_page(
        self,
        *,
        my_community_ids: list[str],
        terms: list[str],
        tag: str | None,
        after_slug: str | None,
        limit: int,
    ) -> list[Doc]:
        visible: Doc = {"$or": [{"visibility": {"$in": LISTED}}, {"_id": {"$in": my_community_ids}}]}
        query: Doc = {"$and": [visible, {"archived": False}]}
        if terms:
            query["$and"].append({"search_terms": {"$all": terms}})
        if tag:
            query["$and"].append({"tags": tag})
        if after_slug is not None:
            query["$and"].append({"slug": {"$gt": after_slug}})
        cursor = self.collection.find(query, projection={"search_terms": 0}, session=current_session())
        return await cursor.sort("slug", ASCENDING).limit(limit).to_list()

    async def by_ids(self, ids: list[str]) -> list[Doc]:
        cursor = self.collection.find({"_id": {"$in": ids}}, projection={"search_terms": 0}, session=current_session())
        return await cursor.to_list()

    async def public_ids(self) -> list[str]:
        values = await self.collection.distinct(
            "_id", {"visibility": Visibility.PUBLIC.value}, session=current_session()
        )
        return [str(v) for v in values]
