"""Every query of the events service's own collections (occurrences, series).

Each query runs in the current transaction when there is one (a message handler's),
so a handler's reads and writes commit together with its processed-message record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_events.domain import EventStatus
from weft_events.facts import create_fact_indexes
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Outgoing, Transaction, UnitOfWork, current_session

Doc = dict[str, Any]
Entries = Sequence[Outgoing]


async def create_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.events.create_index([("community_id", ASCENDING), ("starts_at", ASCENDING), ("_id", ASCENDING)])
    await db.events.create_index([("series_id", ASCENDING), ("starts_at", ASCENDING)])
    await db.events.create_index("attendees.user_id")
    await db.events.create_index([("status", ASCENDING), ("next_reminder_at", ASCENDING)])
    await create_fact_indexes(db)


class Repository:
    def __init__(self, db: AsyncDatabase[Doc], uow: UnitOfWork) -> None:
        self.db = db
        self.uow = uow
        self.events: AsyncCollection[Doc] = db.events
        self.series: AsyncCollection[Doc] = db.series

    async def insert_occurrences(self, docs: Sequence[tuple[Doc, Entries]]) -> list[Doc]:
        full = [{**doc, "rev": 1} for doc, _ in docs]

        async def insert(tx: Transaction) -> list[Doc]:
            await self.events.insert_many(full, ordered=True, session=tx.session)
            for doc, entries in docs:
                tx.announce_all(entries, aggregate=f"events/{doc['_id']}")
            return full

        return await self.uow.run(insert)

    async def insert_series(self, doc: Doc) -> None:
        await self.series.insert_one(doc, session=current_session())

    async def get(self, event_id: str) -> Doc | None:
        return await self.events.find_one({"_id": event_id}, session=current_session())

    async def update(self, event: Doc, update: Doc, entries: Entries) -> Doc | None:
        """Optimistic concurrency on `rev`; None if the occurrence changed meanwhile."""
        update = dict(update)
        update["$inc"] = {**update.get("$inc", {}), "rev": 1}

        async def write(tx: Transaction) -> Doc | None:
            return await self.events.find_one_and_update(
                {"_id": event["_id"], "rev": event["rev"]},
                update,
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        return await self.uow.write_announcing(f"events/{event['_id']}", write, entries)

    async def take_seat(self, event_id: str, entry: Doc, cap: int | None, messages: Entries) -> Doc | None:
        """The atomic conditional update that makes the last seat go to exactly one
        person: matches only while a seat is left and the person holds no place."""
        mode = entry["mode"]
        query: Doc = {
            "_id": event_id,
            "status": EventStatus.SCHEDULED.value,
            "attendees.user_id": {"$ne": entry["user_id"]},
        }
        if cap is not None:
            query[f"confirmed.{mode}"] = {"$lt": cap}
        update = {"$inc": {f"confirmed.{mode}": 1, "rev": 1}, "$push": {"attendees": entry}}
        return await self._conditional(event_id, query, update, messages)

    async def join_waitlist(self, event_id: str, entry: Doc, messages: Entries) -> Doc | None:
        query = {"_id": event_id, "status": EventStatus.SCHEDULED.value, "attendees.user_id": {"$ne": entry["user_id"]}}
        update = {"$inc": {"rev": 1}, "$push": {"attendees": entry}}
        return await self._conditional(event_id, query, update, messages)

    async def _conditional(self, event_id: str, query: Doc, update: Doc, messages: Entries) -> Doc | None:
        async def write(tx: Transaction) -> Doc | None:
            return await self.events.find_one_and_update(
                query, update, return_document=ReturnDocument.AFTER, session=tx.session
            )

        return await self.uow.write_announcing(f"events/{event_id}", write, messages)

    async def community_page(
        self,
        community_id: str,
        *,
        start: datetime,
        end: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Doc]:
        when: Doc = {"$gte": start}
        if end is not None:
            when["$lt"] = end
        query: Doc = {"community_id": community_id, "starts_at": when}
        if after is not None:
            query = {
                "$and": [
                    query,
                    {"$or": [{"starts_at": {"$gt": after[0]}}, {"starts_at": after[0], "_id": {"$gt": after[1]}}]},
                ]
            }
        cursor = self.events.find(query, session=current_session())
        return await cursor.sort([("starts_at", ASCENDING), ("_id", ASCENDING)]).limit(limit).to_list()

    async def series_from(self, series_id: str, starts_at: datetime) -> list[Doc]:
        """This occurrence and the later ones of its series (series edits change the future only)."""
        cursor = self.events.find({"series_id": series_id, "starts_at": {"$gte": starts_at}}, session=current_session())
        return await cursor.sort("starts_at", ASCENDING).to_list()

    async def upcoming_with_attendee(self, community_id: str, user_id: str) -> list[Doc]:
        return await self.events.find(
            {
                "community_id": community_id,
                "status": EventStatus.SCHEDULED.value,
                "starts_at": {"$gt": now()},
                "attendees.user_id": user_id,
            },
            session=current_session(),
        ).to_list()

    async def upcoming_of_community(self, community_id: str) -> list[Doc]:
        return await self.events.find(
            {"community_id": community_id, "status": EventStatus.SCHEDULED.value, "starts_at": {"$gt": now()}},
            session=current_session(),
        ).to_list()

    async def calendar_of_community(
        self, community_id: str, *, start: datetime, end: datetime, limit: int
    ) -> list[Doc]:
        """Organised or co-hosted by the community, cancelled ones included (calendars show cancellations)."""
        query = {
            "$or": [{"community_id": community_id}, {"cohost_community_ids": community_id}],
            "starts_at": {"$gte": start, "$lt": end},
        }
        cursor = self.events.find(query, session=current_session())
        return await cursor.sort("starts_at", ASCENDING).limit(limit).to_list()

    async def with_attendee(self, user_id: str, *, start: datetime, end: datetime) -> list[Doc]:
        cursor = self.events.find(
            {"attendees.user_id": user_id, "starts_at": {"$gte": start, "$lt": end}}, session=current_session()
        )
        return await cursor.sort("starts_at", ASCENDING).to_list()

    async def with_attendee_newest_first(
        self,
        user_id: str,
        *,
        start: datetime | None,
        end: datetime | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Doc]:
        """Occurrences where `user_id` holds an entry, newest first, keyset on (starts_at, _id)
        (for the attendance record; FerretDB v1 has no `$elemMatch` on fields, so the caller
        picks the checked-in entries)."""
        query: Doc = {"attendees.user_id": user_id}
        when: Doc = {}
        if start is not None:
            when["$gte"] = start
        if end is not None:
            when["$lt"] = end
        if when:
            query["starts_at"] = when
        if before is not None:
            query = {
                "$and": [
                    query,
                    {"$or": [{"starts_at": {"$lt": before[0]}}, {"starts_at": before[0], "_id": {"$lt": before[1]}}]},
                ]
            }
        cursor = self.events.find(query, session=current_session())
        return await cursor.sort([("starts_at", DESCENDING), ("_id", DESCENDING)]).limit(limit).to_list()
