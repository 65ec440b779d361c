"""Personal calendar feed tokens (`calendar_feeds` collection).

The token is the credential (calendar apps subscribe with a bare URL), so only
its sha256 is stored: a copy of the database does not let anyone read feeds.
A person has one live feed at a time; making a new one revokes the older ones.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

Doc = dict[str, Any]

# token_urlsafe(32): 43 characters of the base64url alphabet. Anything else is
# not one of ours, and is turned away without a query.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    # Millisecond precision, as BSON stores it, so the value compared in
    # queries is the value stored.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class CalendarFeeds:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index([("user_id", ASCENDING), ("revoked_at", ASCENDING)])

    async def create(self, user_id: str) -> str:
        """A new feed token for `user_id` (returned once, never stored); older feeds are revoked."""
        token = secrets.token_urlsafe(32)
        mine = {"_id": token_hash(token), "user_id": user_id, "created_at": _now(), "revoked_at": None}
        await self.collection.insert_one(mine)
        # Insert first, then revoke everything older than it in (created_at, _id)
        # order: a feed that existed before this call is always revoked, and two
        # racing creates never revoke each other both (the newer one survives).
        older = {
            "$or": [
                {"created_at": {"$lt": mine["created_at"]}},
                {"created_at": mine["created_at"], "_id": {"$lt": mine["_id"]}},
            ]
        }
        await self.collection.update_many(
            {"$and": [{"user_id": user_id, "revoked_at": None}, older]},
            {"$set": {"revoked_at": mine["created_at"]}},
        )
        return token

    async def revoke(self, user_id: str) -> int:
        """Revoke every live feed of `user_id`; how many were live (0 is fine: idempotent)."""
        result = await self.collection.update_many(
            {"user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": _now()}}
        )
        return result.modified_count

    async def resolve(self, token: str) -> str | None:
        """The user a live token belongs to; None if it is unknown or revoked."""
        if not _TOKEN_SHAPE.fullmatch(token):
            return None
        feed = await self.collection.find_one({"_id": token_hash(token)})
        if feed is None or feed.get("revoked_at") is not None:
            return None
        user_id: str = feed["user_id"]
        return user_id
