"""Occurrences (`events`) and series (`series`): every query of them.

Like every query of this service, each passes `session=current_session()`: inside a
use case's transaction (or a message handler's) it reads and writes in that
transaction; outside one (plain reads) it is None.

Filters name only fields of the index they are meant to use, equalities first and
one range last, and never `$or`: a keyset page after (starts_at, _id) is two queries
(the rest of the same start, then the later starts) rather than one `$or`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_events.domain.events import Doc, EventStatus
from weft_shared.storage.unit_of_work import current_session


class Events:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index([("community_id", ASCENDING), ("starts_at", ASCENDING), ("_id", ASCENDING)])
        # `audience` = the organiser and the co-hosts: a community's calendar is one query.
        await self.collection.create_index([("audience", ASCENDING), ("starts_at", ASCENDING)])
        await self.collection.create_index([("series_id", ASCENDING), ("starts_at", ASCENDING)])
        await self.collection.create_index([("status", ASCENDING), ("next_reminder_at", ASCENDING)])

    async def insert_many(self, docs: Sequence[Doc]) -> None:
        await self.collection.insert_many(list(docs), ordered=True, session=current_session())

    async def get(self, event_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": event_id}, session=current_session())

    async def by_ids(self, event_ids: Sequence[str]) -> dict[str, Doc]:
        if not event_ids:
            return {}
        found = await self.collection.find({"_id": {"$in": list(event_ids)}}, session=current_session()).to_list()
        return {d["_id"]: d for d in found}

    async def update(self, event_id: str, *, fields: Doc | None = None, inc: Mapping[str, int] | None = None) -> Doc:
        """Set `fields` and add `inc` (counters: `confirmed.online`, `rsvp_seq`...); the document after."""
        update: Doc = {}
        if fields:
            update["$set"] = fields
        if inc:
            update["$inc"] = dict(inc)
        written = await self.collection.find_one_and_update(
            {"_id": event_id}, update, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is None:  # callers read the occurrence in the same transaction
            raise LookupError(f"no occurrence {event_id}")
        return written

    async def community_page(
        self,
        community_id: str,
        *,
        start: datetime,
        end: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Doc]:
        """Organised by the community, starting in [start, end), in (starts_at, _id) order after the keyset `after`."""
        session = current_session()
        order = [("starts_at", ASCENDING), ("_id", ASCENDING)]
        found: list[Doc] = []
        when: Doc = {"$gte": start}
        if after is not None and after[0] >= start:
            if end is None or after[0] < end:
                same_start = {"community_id": community_id, "starts_at": after[0], "_id": {"$gt": after[1]}}
                found = await self.collection.find(same_start, session=session).sort(order).limit(limit).to_list()
            when = {"$gt": after[0]}
        if end is not None:
            when["$lt"] = end
        if len(found) < limit:
            cursor = self.collection.find({"community_id": community_id, "starts_at": when}, session=session)
            found += await cursor.sort(order).limit(limit - len(found)).to_list()
        return found

    async def upcoming_of_community(self, community_id: str, *, after: datetime) -> list[Doc]:
        """Organised by the community and starting after `after`, cancelled ones included."""
        query = {"community_id": community_id, "starts_at": {"$gt": after}}
        return await self.collection.find(query, session=current_session()).to_list()

    async def upcoming_with_audience(self, community_id: str, *, after: datetime) -> list[Doc]:
        """Organised or co-hosted by the community and starting after `after`."""
        query = {"audience": community_id, "starts_at": {"$gt": after}}
        return await self.collection.find(query, session=current_session()).to_list()

    async def calendar_of_community(
        self, community_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[Doc]:
        """Organised or co-hosted by the community, cancelled ones included (calendars show cancellations)."""
        query = {"audience": community_id, "starts_at": {"$gte": start, "$lt": end}}
        cursor = self.collection.find(query, session=current_session())
        return await cursor.sort("starts_at", ASCENDING).limit(limit).to_list()

    async def series_from(self, series_id: str, starts_at: datetime) -> list[Doc]:
        """This occurrence and the later ones of its series (series edits change the future only)."""
        query = {"series_id": series_id, "starts_at": {"$gte": starts_at}}
        cursor = self.collection.find(query, session=current_session())
        return await cursor.sort("starts_at", ASCENDING).to_list()

    async def due_for_reminders(self, now: datetime, *, limit: int) -> list[str]:
        """Ids of scheduled occurrences with a reminder due by `now`, the longest-due first."""
        query = {"status": EventStatus.SCHEDULED.value, "next_reminder_at": {"$lte": now}}
        cursor = self.collection.find(query, projection={"_id": 1}, session=current_session())
        return [d["_id"] for d in await cursor.sort("next_reminder_at", ASCENDING).limit(limit).to_list()]


class Series:
    """The recurrence rule of each series (its occurrences are in `events`)."""

    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def insert(self, doc: Doc) -> None:
        await self.collection.insert_one(doc, session=current_session())
