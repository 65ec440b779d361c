"""What the events service holds about one person, for their export: events they host
or created, their places (RSVPs and waitlists), their check-ins, their calendar feed."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.privacy.personal_records import one, records

Doc = dict[str, Any]
# An online event's joining link is for confirmed people; a host sees it anyway, but the
# archive leaves out what the API keeps from others (counters, reminder bookkeeping).
EVENT_FIELDS = {
    f: 1
    for f in (
        "community_id",
        "title",
        "description",
        "format",
        "timezone",
        "starts_at",
        "ends_at",
        "venue",
        "visibility",
        "hosts",
        "guest_speakers",
        "status",
        "created_by",
        "created_at",
        "updated_at",
    )
}


class EventsPersonalData:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        # Hosts and creators are only looked up for an export; the rest reads by existing indexes.
        await self._db.events.create_index([("hosts", ASCENDING)])
        await self._db.events.create_index([("created_by", ASCENDING)])

    async def gather(self, user_id: str) -> dict[str, Any]:
        db = self._db
        # Two reads, one per index, merged: an `$or` sorted by `_id` may be planned as a collection
        # scan (the planner weighs the sort), which the query-plan test refuses.
        by_id = {
            doc["_id"]: doc
            for field in ("hosts", "created_by")
            for doc in await records(db.events, {field: user_id}, projection=EVENT_FIELDS)
        }
        hosted = [by_id[key] for key in sorted(by_id)]
        places = await records(db.rsvps, {"user_id": user_id}, projection={"member_seq": 0, "seq": 0})
        check_ins = await records(db.check_ins, {"user_id": user_id})
        feed = await one(db.calendar_feeds, {"_id": user_id}, projection={"token_hash": 0})
        return {
            "events_hosted_or_created": hosted,
            "rsvps": [p for p in places if p.get("status") == "confirmed"],
            "waitlist_places": [p for p in places if p.get("status") == "waitlisted"],
            "check_ins": check_ins,
            "calendar_feed": feed,
        }
