"""Erasing one person from resources' collections, inside the handler's transaction.

What they wrote stays the community's: library items, versions, collections,
threads and replies keep their text, with every field that names them (author,
creator, editor, endorser, moderator, reporter) set to their one pseudonym, so a
thread still reads as one person's posts. What is only theirs goes: reactions (the
posts' counts follow), useful marks (the items' counts follow), follows, their
membership view. These reads are by fields no API list uses: erasure is rare.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.erasure_common import forget_idempotency_keys, pseudonym
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]

# Fields that name who wrote or did something that stays.
AUTHOR_FIELDS: dict[str, tuple[str, ...]] = {
    "resources": ("created_by", "updated_by", "endorsed.by", "moderation.by"),
    "resource_versions": ("created_by",),
    "collections": ("created_by", "updated_by"),
    "threads": ("author_id", "moderation.by"),
    "replies": ("author_id", "moderation.by"),
    "reports": ("reporter_id", "closed_by"),
    "moderation_log": ("moderator_id",),
}


class PersonErasure:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def erase(self, user_id: str) -> None:
        session, db, alias = current_session(), self.db, pseudonym(user_id)
        async for reaction in db.post_reactions.find({"user_id": user_id}, session=session):
            for posts in (db.threads, db.replies):
                await posts.update_one(
                    {"_id": reaction["post_id"], f"reaction_counts.{reaction['emoji']}": {"$gt": 0}},
                    {"$inc": {f"reaction_counts.{reaction['emoji']}": -1}},
                    session=session,
                )
        await db.post_reactions.delete_many({"user_id": user_id}, session=session)
        async for mark in db.useful_marks.find({"user_id": user_id}, session=session):
            await db.resources.update_one(
                {"_id": mark["resource_id"], "useful_count": {"$gt": 0}},
                {"$inc": {"useful_count": -1}},
                session=session,
            )
        await db.useful_marks.delete_many({"user_id": user_id}, session=session)
        await db.thread_follows.delete_many({"user_id": user_id}, session=session)
        await db.membership_members.delete_many({"user_id": user_id}, session=session)
        for collection, fields in AUTHOR_FIELDS.items():
            for field in fields:
                await db[collection].update_many({field: user_id}, {"$set": {field: alias}}, session=session)
        await forget_idempotency_keys(db, user_id)
