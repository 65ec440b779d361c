"""Each person's notification preferences: one document per person who set any.

{_id: user_id,
 defaults: {<type>: <channel>},                       # network-wide overrides
 communities: {<community_id>: {muted: bool, types: {<type>: <channel>}}},
 email: str | None,                                   # overrides the token's address
 timezone: str, digest_hour: int, weekly_digest_day: str,
 updated_at}

Community ids are keys (a field path): the API and unsubscribe tokens accept only
ObjectId-like ids (`[A-Za-z0-9_-]`), so no `.` or `$` ever reaches one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class Preferences:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.preferences
        # The read model's people (storage/read_model.py): the address on a person's token.
        self.people: AsyncCollection[Doc] = db.view_people

    async def create_indexes(self) -> None:
        await ensure_collection(self.collection)

    async def of(self, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": user_id}, session=current_session())

    async def of_people(self, user_ids: Sequence[str]) -> dict[str, Doc]:
        """The documents of those of `user_ids` who have one (read by `_id`)."""
        docs = await self.collection.find({"_id": {"$in": list(user_ids)}}, session=current_session()).to_list()
        return {d["_id"]: d for d in docs}

    async def replace(self, user_id: str, document: Doc) -> None:
        await self.collection.replace_one({"_id": user_id}, document, upsert=True, session=current_session())

    async def set_channels(self, user_id: str, channels: dict[str, str], at: datetime) -> None:
        """Set these dotted paths (`defaults.<type>`, `communities.<id>.types.<type>`) to channels."""
        await self.collection.update_one(
            {"_id": user_id},
            {"$set": {**channels, "updated_at": at}},
            upsert=True,
            session=current_session(),
        )

    async def record_token_email(self, user_id: str, email: str) -> None:
        """The address the person's token carries (unsequenced, like display names)."""
        await self.people.update_one(
            {"_id": user_id},
            {"$set": {"token_email": email}, "$setOnInsert": {"seq": 0}},
            upsert=True,
            session=current_session(),
        )
