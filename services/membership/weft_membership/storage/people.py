"""The `users` collection: one profile per person, created on first sight."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain.search import search_terms
from weft_membership.storage.documents import Database, Doc, aggregate, first_matching
from weft_shared.service.clock import now
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

# Profiles read at a time while the directory filters them.
ID_BATCH = 200


def _new_profile(name: str | None) -> Doc:
    return {
        "display_name": name,
        "bio": "",
        "organisation": "",
        "expertise": [],
        "interests": [],
        "expertise_terms": [],
        "search_terms": search_terms(name or ""),  # findable before they ever save a profile
        "created_at": now(),
    }


class People:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.users

    @staticmethod
    def aggregate(user_id: str) -> str:
        return aggregate("users", user_id)

    async def create_indexes(self) -> None:
        """Only `_id` is queried: the directory reads the people a caller may see by id."""
        await ensure_collection(self.collection)

    async def ensure(self, user_id: str, email: str | None, name: str | None) -> Doc | None:
        """Record the person (their email refreshed from the token); returns their
        contact fields as they were before, or None if they are new. One round trip:
        the caller tells from it whether their contact changed."""
        # `contact_announced` marks records whose contact was announced (records from
        # before that message existed get it, and their announcement, on next sight).
        fields: Doc = {"contact_announced": True}
        if email:
            fields["email"] = email
        return await self.collection.find_one_and_update(
            {"_id": user_id},
            {"$setOnInsert": _new_profile(name), "$set": fields},
            projection={"_id": 0, "email": 1, "display_name": 1, "contact_announced": 1},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
            session=current_session(),
        )

    async def get(self, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": user_id}, session=current_session())

    async def names(self, ids: list[str]) -> dict[str, str | None]:
        cursor = self.collection.find({"_id": {"$in": ids}}, projection={"display_name": 1}, session=current_session())
        return {d["_id"]: d.get("display_name") for d in await cursor.to_list()}

    async def save_profile(self, user_id: str, fields: Doc) -> Doc:
        new = {k: v for k, v in _new_profile(None).items() if k not in fields}
        saved = await self.collection.find_one_and_update(
            {"_id": user_id},
            {"$set": {**fields, "updated_at": now()}, "$setOnInsert": new},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )
        if saved is None:  # an upsert returning the document after it always has one
            raise RuntimeError(f"profile {user_id} was not saved")
        return saved

    async def page(
        self,
        *,
        ids: list[str],
        expertise: str | None,
        terms: list[str],
        after_user: str | None,
        limit: int,
    ) -> list[Doc]:
        """Profiles of `ids` by id after `after_user`, with that expertise and every term."""

        def keep(person: Doc) -> bool:
            held = person.get("search_terms", [])
            return (expertise is None or expertise in person.get("expertise_terms", [])) and all(
                t in held for t in terms
            )

        candidates = sorted(i for i in ids if after_user is None or i > after_user)
        return await first_matching(self._by_id_batches(candidates), keep, limit)

    async def _by_id_batches(self, ids: list[str]) -> AsyncGenerator[list[Doc], None]:
        for start in range(0, len(ids), ID_BATCH):
            cursor = self.collection.find(
                {"_id": {"$in": ids[start : start + ID_BATCH]}}, projection={"email": 0}, session=current_session()
            )
            yield await cursor.sort("_id", ASCENDING).to_list()
