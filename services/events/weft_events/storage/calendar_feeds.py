"""Personal calendar feeds (`calendar_feeds`): one document per person, holding the
hash of their live feed's token (domain/calendar_feeds.py), or none once revoked.

One document per person makes "one live feed at a time" a single-document write:
a new token replaces the old one, so racing creates leave exactly one live.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from weft_events.domain.events import Doc
from weft_shared.storage.unit_of_work import current_session


class CalendarFeeds:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index("token_hash")

    async def replace(self, user_id: str, token_hash: str, *, at: datetime) -> None:
        """Make `token_hash` the person's live feed; the previous token stops working."""
        await self.collection.update_one(
            {"_id": user_id},
            {"$set": {"token_hash": token_hash, "created_at": at, "revoked_at": None}},
            upsert=True,
            session=current_session(),
        )

    async def get(self, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": user_id}, session=current_session())

    async def revoke(self, user_id: str, *, at: datetime) -> None:
        await self.collection.update_one(
            {"_id": user_id}, {"$unset": {"token_hash": ""}, "$set": {"revoked_at": at}}, session=current_session()
        )

    async def owner_of(self, token_hash: str) -> str | None:
        """The person whose live feed this is; None for unknown and revoked tokens."""
        feed = await self.collection.find_one({"token_hash": token_hash}, session=current_session())
        return None if feed is None else str(feed["_id"])
