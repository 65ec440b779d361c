"""Curation's queries: its fields of the library items (`resources`: status, review-by,
endorsement, the useful counter) and the `useful_marks` collection (one document per
person and item, so marks are written independently and the counter beside them).

The library's own queries (creating, listing, editing items) are storage/items.py's;
these touch only the fields DOCUMENTS.md lists under "Curation".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session


def mark_key(resource_id: str, user_id: str) -> str:
    return f"{resource_id}:{user_id}"


class CurationStore:
    def __init__(self, db: AsyncDatabase[Doc], *, touch: Callable[[str], Awaitable[None]]) -> None:
        self.items: AsyncCollection[Doc] = db.resources
        self.marks: AsyncCollection[Doc] = db.useful_marks
        # Tells search that what it shows of an item changed (in the same transaction).
        self._touch = touch

    async def create_indexes(self) -> None:
        # The review job's poll: items whose review-by date is armed and has come.
        await self.items.create_index([("review_next", ASCENDING)])
        # A community's review-due list, oldest date first.
        await self.items.create_index([("community_id", ASCENDING), ("review_due_key", ASCENDING)])
        # A community's recommended (endorsed, published) items, newest endorsement first (read
        # backwards: secantusd-py finds nothing for a `$gt` on a descending key, docs/secantusdb.md).
        await self.items.create_index([("community_id", ASCENDING), ("status", ASCENDING), ("endorsed_key", ASCENDING)])
        # Marks by item (its useful_count's parts), for deleting an item's marks with it.
        await self.marks.create_index([("resource_id", ASCENDING)])

    # -- items -------------------------------------------------------------------

    async def item(self, resource_id: str) -> Doc | None:
        return await self.items.find_one({"_id": resource_id}, session=current_session())

    async def items_by_ids(self, resource_ids: list[str]) -> dict[str, Doc]:
        if not resource_ids:
            return {}
        docs = await self.items.find({"_id": {"$in": resource_ids}}, session=current_session()).to_list()
        return {d["_id"]: d for d in docs}

    async def set_fields(self, resource_id: str, fields: Doc) -> Doc | None:
        """Write curation fields; the item as it is after."""
        written = await self.items.find_one_and_update(
            {"_id": resource_id}, {"$set": fields}, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is not None and "status" in fields:
            await self._touch(resource_id)  # search keeps the status: who sees a hit, and archived ones apart
        return written

    async def claim_review(self, resource_id: str, due: datetime, fields: Doc) -> Doc | None:
        """Claim the announcement of `due`: matches only while `review_next` still holds it,
        so of two replicas (or a restarted job) claiming the same date one writes, and
        the other's claim matches nothing. The item after, or None if already claimed."""
        return await self.items.find_one_and_update(
            {"_id": resource_id, "review_next": due},
            {"$set": fields},
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )

    async def due_for_review(self, moment: datetime, *, limit: int) -> list[tuple[str, datetime]]:
        """(item id, armed date) of items whose review-by date has come."""
        cursor = self.items.find(
            {"review_next": {"$lte": moment}}, projection={"review_next": 1}, session=current_session()
        ).sort([("review_next", ASCENDING)])
        return [(d["_id"], d["review_next"]) for d in await cursor.limit(limit).to_list()]

    async def review_due_page(self, community_id: str, *, after: str | None, limit: int) -> list[Doc]:
        """Flagged items of a community, oldest review-by date first."""
        query: Doc = {"community_id": community_id, "review_due_key": {"$gt": after or ""}}
        cursor = self.items.find(query, session=current_session()).sort([("review_due_key", ASCENDING)])
        return await cursor.limit(limit).to_list()

    async def recommended_page(self, community_id: str, *, before: str | None, limit: int) -> list[Doc]:
        """Published endorsed items of a community, newest endorsement first."""
        key: Doc = {"$lt": before} if before is not None else {"$gt": ""}
        query: Doc = {"community_id": community_id, "status": "published", "endorsed_key": key}
        cursor = self.items.find(query, session=current_session()).sort([("endorsed_key", DESCENDING)])
        return await cursor.limit(limit).to_list()

    # -- useful marks ------------------------------------------------------------

    async def has_mark(self, resource_id: str, user_id: str) -> bool:
        found = await self.marks.find_one({"_id": mark_key(resource_id, user_id)}, session=current_session())
        return found is not None

    async def add_mark(self, item: Doc, user_id: str, at: datetime) -> bool:
        """Mark and count in one transaction; False when the person had marked it already.
        Two racing first marks by one person: the later insert conflicts and its
        transaction re-runs, finding the mark."""
        session = current_session()
        key = mark_key(item["_id"], user_id)
        if await self.marks.find_one({"_id": key}, session=session) is not None:
            return False
        doc = {"_id": key, "resource_id": item["_id"], "community_id": item["community_id"], "user_id": user_id}
        await self.marks.insert_one({**doc, "created_at": at}, session=session)
        await self.items.update_one({"_id": item["_id"]}, {"$inc": {"useful_count": 1}}, session=session)
        return True

    async def remove_mark(self, item: Doc, user_id: str) -> bool:
        """Unmark and count down (never below 0); False when there was no mark."""
        session = current_session()
        removed = await self.marks.delete_one({"_id": mark_key(item["_id"], user_id)}, session=session)
        if not removed.deleted_count:
            return False
        await self.items.update_one(
            {"_id": item["_id"], "useful_count": {"$gt": 0}}, {"$inc": {"useful_count": -1}}, session=session
        )
        return True
