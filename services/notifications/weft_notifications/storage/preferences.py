"""Each person's notification preferences: one document per person who set any.

{_id: user_id,
 defaults: {<type>: <channel>},                       # network-wide overrides
 communities: {<community_id>: {muted: bool, types: {<type>: <channel>}}},
 email: str | None,                                   # overrides the token's address
 timezone: str, digest_hour: int, weekly_digest_day: int,
 updated_at}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class Preferences:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.preferences

    async def create_indexes(self) -> None:
        await ensure_collection(self.collection)

    async def of(self, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": user_id}, session=current_session())

    async def of_people(self, user_ids: Sequence[str]) -> dict[str, Doc]:
        """The documents of those of `user_ids` who have one (read by `_id`)."""
        docs = await self.collection.find({"_id": {"$in": list(user_ids)}}, session=current_session()).to_list()
        return {d["_id"]: d for d in docs}
