"""The `exports` collection: one document per personal-data export request.

`{_id, user_id, status: pending | ready | incomplete, requested_at, deadline_at,
expected: [service], parts: {<service>: {object_name, sha256, size, at}},
archive: {object_name, sha256, size}, finished_at, expires_at, missing: [service]}`

`expired` is not stored: an archive past `expires_at` has left the object store (its
TTL is the same retention), and a read says so.

`exports_pending`: `{_id: user_id, export_id}` while that person's export is pending,
written and removed in the export's transactions: its `_id` keeps one pending request
per person, so two requests at once start one export. (Not a partial unique index on
`status`: SecantusDB keeps a document's entry in a partial index after an update takes
it out of the filter, so a finished export would block the next; docs/privacy.md.)
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc, aggregate
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

PENDING = "pending"
EXPORTS = "exports"
EXPORTS_PENDING = "exports_pending"


class Exports:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db[EXPORTS]
        self.pending: AsyncCollection[Doc] = db[EXPORTS_PENDING]

    @staticmethod
    def aggregate(export_id: str) -> str:
        return aggregate("exports", export_id)

    async def create_indexes(self) -> None:
        await self.collection.create_index([("user_id", ASCENDING), ("requested_at", DESCENDING)])
        await ensure_collection(self.pending)
        await self.collection.create_index([("status", ASCENDING), ("deadline_at", ASCENDING)])

    async def insert(self, doc: Doc) -> None:
        """A new pending export; DuplicateKeyError if the person has one pending already."""
        await self.pending.insert_one({"_id": doc["user_id"], "export_id": doc["_id"]}, session=current_session())
        await self.collection.insert_one(doc, session=current_session())

    async def get(self, export_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": export_id}, session=current_session())

    async def pending_of(self, user_id: str) -> Doc | None:
        claim = await self.pending.find_one({"_id": user_id}, session=current_session())
        return await self.get(claim["export_id"]) if claim is not None else None

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

    async def finish(self, export_id: str, user_id: str, fields: Doc) -> bool:
        """Move a pending export to ready or incomplete; False if it was no longer pending."""
        result = await self.collection.update_one(
            {"_id": export_id, "status": PENDING}, {"$set": fields}, session=current_session()
        )
        if result.modified_count != 1:
            return False
        await self.pending.delete_one({"_id": user_id, "export_id": export_id}, session=current_session())
        return True

    async def past_deadline(self, at: datetime, limit: int) -> list[str]:
        cursor = self.collection.find(
            {"status": PENDING, "deadline_at": {"$lte": at}}, projection={"_id": 1}, session=current_session()
        )
        return [d["_id"] for d in await cursor.sort("deadline_at", ASCENDING).limit(limit).to_list()]
