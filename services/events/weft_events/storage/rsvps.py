"""Places (`rsvps`): one document per occurrence and person, confirmed or waitlisted.

The occurrence's counters (`confirmed`, `waitlisted`, `rsvp_seq`) change in the same
transaction as these documents (see usecases/rsvps.py); this module only queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_events.domain.events import AttendanceMode, Doc
from weft_events.domain.places import PlaceStatus
from weft_shared.storage.unit_of_work import current_session


def place_id(event_id: str, user_id: str) -> str:
    """The natural key: one place per occurrence and person."""
    return f"{event_id}:{user_id}"


class Rsvps:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        # The waitlist in order, its positions (a count), the confirmed people, the hosts' list.
        await self.collection.create_index(
            [("event_id", ASCENDING), ("status", ASCENDING), ("mode", ASCENDING), ("seq", ASCENDING)]
        )
        # A person's confirmed places in a window (their calendar feed).
        await self.collection.create_index([("user_id", ASCENDING), ("status", ASCENDING), ("starts_at", ASCENDING)])
        # A person's places at one community's events (dropped when they leave it).
        await self.collection.create_index(
            [("community_id", ASCENDING), ("user_id", ASCENDING), ("starts_at", ASCENDING)]
        )

    async def get(self, event_id: str, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": place_id(event_id, user_id)}, session=current_session())

    async def put(self, place: Doc) -> None:
        """Write a person's place, replacing the one they held (a change of mode)."""
        await self.collection.replace_one({"_id": place["_id"]}, place, upsert=True, session=current_session())

    async def confirm(self, place_ids: Sequence[str], *, at: datetime) -> None:
        """Waitlisted places become confirmed (a promotion, or someone who turned up)."""
        await self.collection.update_many(
            {"_id": {"$in": list(place_ids)}},
            {"$set": {"status": PlaceStatus.CONFIRMED.value, "promoted_at": at}},
            session=current_session(),
        )

    async def delete(self, event_id: str, user_id: str) -> None:
        await self.collection.delete_one({"_id": place_id(event_id, user_id)}, session=current_session())

    async def of_event(self, event_id: str) -> list[Doc]:
        """Every place at the occurrence, in the order they were made."""
        cursor = self.collection.find({"event_id": event_id}, session=current_session())
        return await cursor.sort("seq", ASCENDING).to_list()

    async def waitlist_head(self, event_id: str, mode: AttendanceMode, *, limit: int) -> list[Doc]:
        """The first `limit` waitlisted places of `mode` (`_id`, `user_id`), first come first served."""
        query = {"event_id": event_id, "status": PlaceStatus.WAITLISTED.value, "mode": mode.value}
        cursor = self.collection.find(query, projection={"user_id": 1, "seq": 1}, session=current_session())
        return await cursor.sort("seq", ASCENDING).limit(limit).to_list()

    async def waitlist_position(self, event_id: str, mode: str, seq: int) -> int:
        """1 for the head of the waitlist: how many wait in `mode` ahead of `seq`, plus one."""
        ahead = {"event_id": event_id, "status": PlaceStatus.WAITLISTED.value, "mode": mode, "seq": {"$lt": seq}}
        return await self.collection.count_documents(ahead, session=current_session()) + 1

    async def confirmed_user_ids(self, event_id: str) -> list[str]:
        query = {"event_id": event_id, "status": PlaceStatus.CONFIRMED.value}
        cursor = self.collection.find(query, projection={"user_id": 1, "seq": 1}, session=current_session())
        return [d["user_id"] for d in await cursor.sort("seq", ASCENDING).to_list()]

    async def confirmed_of_person(self, user_id: str, *, start: datetime, end: datetime, limit: int) -> list[str]:
        """Event ids where `user_id` holds a confirmed place, starting in [start, end)."""
        query = {"user_id": user_id, "status": PlaceStatus.CONFIRMED.value, "starts_at": {"$gte": start, "$lt": end}}
        cursor = self.collection.find(query, projection={"event_id": 1}, session=current_session())
        return [d["event_id"] for d in await cursor.sort("starts_at", ASCENDING).limit(limit).to_list()]

    async def of_person_at(self, user_id: str, event_ids: Sequence[str]) -> dict[str, Doc]:
        """The person's places at these occurrences, by event id."""
        if not event_ids:
            return {}
        ids = [place_id(e, user_id) for e in event_ids]
        found = await self.collection.find({"_id": {"$in": ids}}, session=current_session()).to_list()
        return {d["event_id"]: d for d in found}

    async def upcoming_of_member(self, community_id: str, user_id: str, *, after: datetime) -> list[Doc]:
        """The person's places at the community's events starting after `after`."""
        query = {"community_id": community_id, "user_id": user_id, "starts_at": {"$gt": after}}
        return await self.collection.find(query, session=current_session()).to_list()

    async def move_start(self, event_id: str, starts_at: datetime) -> None:
        """Keep the copied start time in step when the occurrence moves."""
        await self.collection.update_many(
            {"event_id": event_id}, {"$set": {"starts_at": starts_at}}, session=current_session()
        )
