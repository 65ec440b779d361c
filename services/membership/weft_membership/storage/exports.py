"""The `exports` collection: one document per personal-data export request.

`{_id, user_id, status: pending | ready | incomplete, requested_at, deadline_at,
expected: [service], parts: {<service>: {object_name, sha256, size, at}},
archive: {object_name, sha256, size}, finished_at, expires_at, missing: [service]}`

`expired` is not stored: an archive past `expires_at` has left the object store (its
TTL is the same retention), and a read says so. A partial unique index keeps one
pending request per person, so two requests at once start one export.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc, aggregate
from weft_shared.storage.unit_of_work import current_session

PENDING = "pending"


class Exports:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.exports

    @staticmethod
    def aggregate(export_id: str) -> str:
        return aggregate("exports", export_id)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("user_id", ASCENDING), ("requested_at", DESCENDING)])
        await self.collection.create_index(
            [("user_id", ASCENDING)],
            name="one_pending_per_person",
            unique=True,
            partialFilterExpression={"status": PENDING},
        )
        await self.collection.create_index([("status", ASCENDING), ("deadline_at", ASCENDING)])

    async def insert(self, doc: Doc) -> None:
        await self.collection.insert_one(doc, session=current_session())

    async def get(self, export_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": export_id}, session=current_session())

    async def pending_of(self, user_id: str) -> Doc | None:
        return await self.collection.find_one({"user_id": user_id, "status": PENDING}, session=current_session())

    async def of_person(self, user_id: str, limit: int) -> list[Doc]:
        cursor = self.collection.find({"user_id": user_id}, session=current_session())
        return await cursor.sort("requested_at", DESCENDING).limit(limit).to_list()

    async def record_part(self, export_id: str, service: str, part: Doc) -> Doc | None:
        """Record a service's part on a pending export (`service` is one of its expected
        names, checked by the caller); the export as it is now, or None if not pending."""
        await self.collection.update_one(
            {"_id": export_id, "status": PENDING}, {"$set": {f"parts.{service}": part}}, session=current_session()
        )
        return await self.collection.find_one({"_id": export_id, "status": PENDING}, session=current_session())

    async def finish(self, export_id: str, fields: Doc) -> bool:
        """Move a pending export to ready or incomplete; False if it was no longer pending."""
        result = await self.collection.update_one(
            {"_id": export_id, "status": PENDING}, {"$set": fields}, session=current_session()
        )
        return result.modified_count == 1

    async def past_deadline(self, at: datetime, limit: int) -> list[str]:
        cursor = self.collection.find(
            {"status": PENDING, "deadline_at": {"$lte": at}}, projection={"_id": 1}, session=current_session()
        )
        return [d["_id"] for d in await cursor.sort("deadline_at", ASCENDING).limit(limit).to_list()]
