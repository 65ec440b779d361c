"""Check-ins (`check_ins`): one document per occurrence and person a host recorded
as present. They are the CPD record, so nothing deletes them."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_events.domain.events import Doc
from weft_events.storage.rsvps import place_id
from weft_shared.storage.unit_of_work import current_session


class CheckIns:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index("event_id")
        # A person's CPD record, newest first, keyset on (starts_at, event_id).
        await self.collection.create_index([("user_id", ASCENDING), ("starts_at", ASCENDING), ("event_id", ASCENDING)])

    async def get(self, event_id: str, user_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": place_id(event_id, user_id)}, session=current_session())

    async def insert(self, check_in: Doc) -> None:
        await self.collection.insert_one(check_in, session=current_session())

    async def of_event(self, event_id: str) -> dict[str, Doc]:
        """The occurrence's check-ins by person."""
        found = await self.collection.find({"event_id": event_id}, session=current_session()).to_list()
        return {d["user_id"]: d for d in found}

    async def of_person_newest_first(
        self,
        user_id: str,
        *,
        start: datetime | None,
        end: datetime | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Doc]:
        """The person's check-ins at occurrences starting in [start, end), newest first,
        after the keyset `before` = (starts_at, event_id) of the last one already shown."""
        session = current_session()
        order = [("starts_at", DESCENDING), ("event_id", DESCENDING)]
        found: list[Doc] = []
        when: Doc = {}
        if start is not None:
            when["$gte"] = start
        if end is not None:
            when["$lt"] = end
        if before is not None:
            if (start is None or before[0] >= start) and (end is None or before[0] < end):
                same_start = {"user_id": user_id, "starts_at": before[0], "event_id": {"$lt": before[1]}}
                found = await self.collection.find(same_start, session=session).sort(order).limit(limit).to_list()
            when["$lt"] = min(before[0], end) if end is not None else before[0]
        if len(found) < limit:
            query: Doc = {"user_id": user_id, "starts_at": when} if when else {"user_id": user_id}
            cursor = self.collection.find(query, session=session).sort(order).limit(limit - len(found))
            found += await cursor.to_list()
        return found

    async def move_start(self, event_id: str, starts_at: datetime) -> None:
        """Keep the copied start time in step when the occurrence moves."""
        await self.collection.update_many(
            {"event_id": event_id}, {"$set": {"starts_at": starts_at}}, session=current_session()
        )
