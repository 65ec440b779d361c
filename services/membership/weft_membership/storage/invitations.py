"""The `invitations` collection: single-use tokens, stored only as their hash."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc, aggregate
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import current_session


class Invitations:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.invitations

    @staticmethod
    def aggregate(invitation_id: str) -> str:
        return aggregate("invitations", invitation_id)

    async def create_indexes(self) -> None:
        await self.collection.create_index("token_hash", unique=True)
        await self.collection.create_index([("community_id", ASCENDING), ("status", ASCENDING)])

    async def insert(self, doc: Doc) -> None:
        await self.collection.insert_one(doc, session=current_session())

    async def by_token_hash(self, token_hash: str) -> Doc | None:
        return await self.collection.find_one({"token_hash": token_hash}, session=current_session())

    async def get(self, invitation_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": invitation_id}, session=current_session())

    async def mark_withdrawn(self, invitation_id: str, user_id: str) -> None:
        await self.collection.update_one(
            {"_id": invitation_id},
            {"$set": {"status": "withdrawn", "withdrawn_by": user_id, "withdrawn_at": now()}},
            session=current_session(),
        )

    async def mark_accepted(self, invitation_id: str, user_id: str) -> None:
        await self.collection.update_one(
            {"_id": invitation_id},
            {"$set": {"status": "accepted", "accepted_by": user_id, "accepted_at": now()}},
            session=current_session(),
        )
