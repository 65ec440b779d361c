"""The `slugs` collection: one document per slug in use, keyed by the slug.

A slug is claimed by inserting its document and freed by deleting it, in the
transaction that gives a community its slug or takes it away, so the `_id` index
keeps slugs unique. It replaces a unique index on `communities.slug`, which
secantusd-rs never frees: it keeps the old key of an updated or deleted document
(docs/secantusdb.md), so a slug a community gave up stayed "taken" there.
"""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

# What held slugs before this collection: dropped once its slugs are claimed here.
OLD_SLUG_INDEX = "slug_unique"


class Slugs:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.slugs
        self.communities: AsyncCollection[Doc] = db.communities

    async def create_indexes(self) -> None:
        await ensure_collection(self.collection)
        await self._move_from_the_old_index()

    async def _move_from_the_old_index(self) -> None:
        """Once, for a database made before this collection: claim every community's slug,
        then drop the unique index on `communities.slug` (before the communities start)."""
        indexes = await (await self.communities.list_indexes()).to_list()
        if OLD_SLUG_INDEX not in [i["name"] for i in indexes]:
            return
        async for community in self.communities.find({}, projection={"slug": 1}):
            await self.claim_existing(community["slug"], community["_id"])
        await self.communities.drop_index(OLD_SLUG_INDEX)

    async def claim(self, slug: str, community_id: str) -> None:
        """Raises DuplicateKeyError when the slug is taken."""
        await self.collection.insert_one({"_id": slug, "community_id": community_id}, session=current_session())

    async def release(self, slug: str) -> None:
        await self.collection.delete_one({"_id": slug}, session=current_session())

    async def claim_existing(self, slug: str, community_id: str) -> None:
        """For communities made before this collection: idempotent, outside transactions."""
        await self.collection.update_one(
            {"_id": slug}, {"$setOnInsert": {"community_id": community_id}}, upsert=True, session=current_session()
        )
