"""Erasing one person from events' collections, inside the handler's transaction.

Their places at past events and their check-ins stay (the hosts' counts and the
register must still add up) but are re-keyed to their pseudonym; so are the
events they host or created. Their calendar feed and membership view go.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.erasure_common import forget_idempotency_keys, pseudonym
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class PersonErasure:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def places_of(self, user_id: str) -> list[Doc]:
        return await self.db.rsvps.find({"user_id": user_id}, session=current_session()).to_list()

    async def anonymise(self, user_id: str) -> None:
        """Everything left after their upcoming places were dropped."""
        session, db, alias = current_session(), self.db, pseudonym(user_id)
        for name in ("rsvps", "check_ins"):
            async for doc in db[name].find({"user_id": user_id}, session=session):
                await db[name].delete_one({"_id": doc["_id"]}, session=session)
                kept = {**doc, "_id": f"{doc['event_id']}:{alias}", "user_id": alias}
                await db[name].replace_one({"_id": kept["_id"]}, kept, upsert=True, session=session)
        await db.check_ins.update_many({"checked_in_by": user_id}, {"$set": {"checked_in_by": alias}}, session=session)
        async for event in db.events.find({"hosts": user_id}, projection={"hosts": 1}, session=session):
            hosts = [alias if h == user_id else h for h in event["hosts"]]
            await db.events.update_one({"_id": event["_id"]}, {"$set": {"hosts": hosts}}, session=session)
        await db.events.update_many({"created_by": user_id}, {"$set": {"created_by": alias}}, session=session)
        await db.calendar_feeds.delete_one({"_id": user_id}, session=session)
        await db.membership_members.delete_many({"user_id": user_id}, session=session)
        await forget_idempotency_keys(db, user_id)
