"""Dev only: the people made on the dev sign-in page, so one can be picked again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase


def dev_subject(email: str) -> str:
    """A stable id per email that does not show the email (ids appear in member lists)."""
    return "dev-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:16]


class DevPeople:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._people = db["dev_people"]

    async def create_indexes(self) -> None:
        await self._people.create_index([("last_seen", DESCENDING)])

    async def remember(self, sub: str, *, name: str, email: str) -> None:
        await self._people.update_one(
            {"_id": sub}, {"$set": {"name": name, "email": email, "last_seen": datetime.now(UTC)}}, upsert=True
        )

    async def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        return [doc async for doc in self._people.find().sort("last_seen", DESCENDING).limit(limit)]

    async def get(self, sub: str) -> dict[str, Any] | None:
        return await self._people.find_one({"_id": sub})
