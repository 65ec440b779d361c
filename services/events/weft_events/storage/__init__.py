"""Every query of the events service (DOCUMENTS.md describes the documents).

Each query passes `session=current_session()`, so use cases never see sessions and
a use case called from a message handler reads and writes in the handler's
transaction. Filters name only fields of the index they read through; a test runs
`explain` on each (tests/events/test_storage_plans.py).
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from weft_events.domain.events import Doc
from weft_events.storage.calendar_feeds import CalendarFeeds
from weft_events.storage.check_ins import CheckIns
from weft_events.storage.erasure import PersonErasure
from weft_events.storage.events import Events, Series
from weft_events.storage.membership_view import MembershipView
from weft_events.storage.rsvps import Rsvps
from weft_shared.storage.client import ensure_collection


class EventsStorage:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.events = Events(db.events)
        self.series = Series(db.series)
        self.rsvps = Rsvps(db.rsvps)
        self.check_ins = CheckIns(db.check_ins)
        self.membership = MembershipView(db)
        self.calendar_feeds = CalendarFeeds(db.calendar_feeds)
        self.erasure = PersonErasure(db)

    async def create_indexes(self) -> None:
        """Idempotent, on every start. Every collection exists before a transaction
        writes to it (index creation makes most of them; the others are made here)."""
        await self.events.create_indexes()
        await self.rsvps.create_indexes()
        await self.check_ins.create_indexes()
        await self.membership.create_indexes()
        await self.calendar_feeds.create_indexes()
        await ensure_collection(self.series.collection)
        await ensure_collection(self.membership.communities)
