"""The `links` collection: one document per pair of communities (`pair_key`)."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc, aggregate
from weft_shared.storage.unit_of_work import current_session


def pair_key(a: str, b: str) -> str:
    return ":".join(sorted((a, b)))


class Links:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.links

    @staticmethod
    def aggregate(link: Doc) -> str:
        """A pair's links (a removed one revived) are one aggregate: their messages stay in order."""
        return aggregate("links", link["pair_key"])

    async def create_indexes(self) -> None:
        await self.collection.create_index("pair_key", unique=True)
        await self.collection.create_index([("from_community_id", ASCENDING), ("status", ASCENDING)])
        await self.collection.create_index([("to_community_id", ASCENDING), ("status", ASCENDING)])

    async def get(self, link_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": link_id}, session=current_session())

    async def by_pair(self, key: str) -> Doc | None:
        return await self.collection.find_one({"pair_key": key}, session=current_session())

    async def insert(self, doc: Doc) -> None:
        """Raises DuplicateKeyError when the pair already has a link."""
        await self.collection.insert_one(doc, session=current_session())

    async def set_fields(self, link_id: str, fields: Doc) -> None:
        await self.collection.update_one({"_id": link_id}, {"$set": fields}, session=current_session())

    async def of_community(self, community_id: str, *, statuses: list[str], limit: int = 500) -> list[Doc]:
        """Links from or to the community: one index range each, merged by id."""
        found: dict[str, Doc] = {}
        for side in ("from_community_id", "to_community_id"):
            query = {side: community_id, "status": {"$in": statuses}}
            cursor = self.collection.find(query, session=current_session())
            for link in await cursor.sort("_id", ASCENDING).limit(limit).to_list():
                found[link["_id"]] = link
        return [found[k] for k in sorted(found)][:limit]
