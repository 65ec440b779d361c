"""What grows around threads and replies, one small document per thing written on its
own: the edit history (`post_edits`), reactions (`post_reactions`) and follows
(`thread_follows`). The counters they feed (`reaction_counts`) live on the post and
change in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session


def reaction_id(post_id: str, user_id: str, emoji: str) -> str:
    """One reaction per person, post and emoji: the natural key."""
    return f"{post_id}:{user_id}:{emoji}"


def follow_id(thread_id: str, user_id: str) -> str:
    return f"{thread_id}:{user_id}"


class PostEdits:
    """The earlier texts of a thread's opening post or of a reply, numbered 1, 2… per post."""

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.post_edits

    async def create_indexes(self) -> None:
        await self.collection.create_index([("post_id", ASCENDING), ("number", ASCENDING)], unique=True)

    async def keep(self, post_id: str, number: int, earlier: Doc) -> None:
        """Keep `earlier` (title and/or body_markdown, written_at) as the post's version `number`."""
        record = {"_id": f"{post_id}:{number}", "post_id": post_id, "number": number, **earlier}
        await self.collection.insert_one(record, session=current_session())

    async def of_post(self, post_id: str) -> list[Doc]:
        query = {"post_id": post_id, "number": {"$gte": 1}}
        cursor = self.collection.find(query, session=current_session()).sort("number", ASCENDING)
        return await cursor.to_list()


class PostReactions:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.post_reactions

    async def create_indexes(self) -> None:
        # A person's reactions to the posts of one page.
        await self.collection.create_index([("user_id", ASCENDING), ("post_id", ASCENDING)])

    async def add(self, post_id: str, user_id: str, emoji: str, *, at: datetime) -> bool:
        """True if new (the post's count goes up), False if the person had already reacted so."""
        key = reaction_id(post_id, user_id, emoji)
        session = current_session()
        # Looked up first: a duplicate key would abort the whole transaction. Two racing
        # inserts of one key conflict instead, and the retry finds the first one's.
        if await self.collection.find_one({"_id": key}, projection={"_id": 1}, session=session) is not None:
            return False
        record = {"_id": key, "post_id": post_id, "user_id": user_id, "emoji": emoji, "at": at}
        await self.collection.insert_one(record, session=session)
        return True

    async def remove(self, post_id: str, user_id: str, emoji: str) -> bool:
        deleted = await self.collection.delete_one(
            {"_id": reaction_id(post_id, user_id, emoji)}, session=current_session()
        )
        return deleted.deleted_count == 1

    async def mine(self, user_id: str, post_ids: Sequence[str]) -> dict[str, list[str]]:
        """The emojis `user_id` gave each of these posts, by post id (sorted)."""
        if not post_ids:
            return {}
        query = {"user_id": user_id, "post_id": {"$in": sorted(set(post_ids))}}
        found: dict[str, list[str]] = {}
        for doc in await self.collection.find(query, session=current_session()).to_list():
            found.setdefault(doc["post_id"], []).append(doc["emoji"])
        return {post: sorted(emojis) for post, emojis in found.items()}


class ThreadFollows:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.thread_follows

    async def create_indexes(self) -> None:
        # The thread's followers (whom a reply is told to).
        await self.collection.create_index([("thread_id", ASCENDING), ("user_id", ASCENDING)])

    async def follow(self, thread_id: str, user_id: str, *, at: datetime) -> None:
        await self.collection.update_one(
            {"_id": follow_id(thread_id, user_id)},
            {"$setOnInsert": {"thread_id": thread_id, "user_id": user_id, "since": at}},
            upsert=True,
            session=current_session(),
        )

    async def unfollow(self, thread_id: str, user_id: str) -> None:
        await self.collection.delete_one({"_id": follow_id(thread_id, user_id)}, session=current_session())

    async def follows(self, thread_id: str, user_id: str) -> bool:
        found = await self.collection.find_one({"_id": follow_id(thread_id, user_id)}, session=current_session())
        return found is not None

    async def followers(self, thread_id: str) -> list[str]:
        query = {"thread_id": thread_id}
        docs = await self.collection.find(query, projection={"user_id": 1}, session=current_session()).to_list()
        return sorted(d["user_id"] for d in docs)

    async def following_of(self, user_id: str, thread_ids: Sequence[str]) -> set[str]:
        """Which of these threads `user_id` follows (one page of a list)."""
        if not thread_ids:
            return set()
        ids = sorted({follow_id(t, user_id) for t in thread_ids})
        found = await self.collection.find({"_id": {"$in": ids}}, session=current_session()).to_list()
        return {d["thread_id"] for d in found}
