"""Erasing one person from notifications' collections, inside the handler's transaction.

Everything here about them is theirs alone and is deleted: inbox, counters,
preferences, queued and sent mail, digests, the webhook subscriptions they created
(with their queues and delivery logs), their read-model rows. Notices other people
received about what they did stay those people's, with the actor removed and
their name replaced.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_notifications.storage.webhooks import Webhooks
from weft_shared.storage.erasure_common import ERASED_NAME, forget_idempotency_keys
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class PersonErasure:
    def __init__(self, db: AsyncDatabase[Doc], webhooks: Webhooks) -> None:
        self.db = db
        self.webhooks = webhooks

    async def erase(self, user_id: str) -> None:
        session, db = current_session(), self.db
        person = await db.view_people.find_one({"_id": user_id}, session=session) or {}
        name, email = person.get("display_name"), person.get("email")
        await db.inbox.delete_many({"user_id": user_id}, session=session)
        await db.inbox_counters.delete_one({"_id": user_id}, session=session)
        await self._anonymise_notices_about(user_id, name)
        await db.preferences.delete_one({"_id": user_id}, session=session)
        await db.digests.delete_many({"user_id": user_id}, session=session)
        await db.email_outbox.delete_many({"user_id": user_id}, session=session)
        if email:
            await db.email_outbox.delete_many({"to": email}, session=session)
        async for subscription in db.webhooks.find({"created_by": user_id}, projection={"_id": 1}, session=session):
            await self.webhooks.delete(subscription["_id"])
        await db.view_people.delete_one({"_id": user_id}, session=session)
        await db.view_members.delete_many({"user_id": user_id}, session=session)
        await db.view_places.delete_many({"user_id": user_id}, session=session)
        await forget_idempotency_keys(db, user_id)

    async def _anonymise_notices_about(self, user_id: str, name: str | None) -> None:
        session = current_session()
        async for item in self.db.inbox.find({"actor_id": user_id}, session=session):
            fields: Doc = {"actor_id": None}
            if name:
                for key in ("title", "text"):
                    if isinstance(item.get(key), str):
                        fields[key] = item[key].replace(name, ERASED_NAME)
            await self.db.inbox.update_one({"_id": item["_id"]}, {"$set": fields}, session=session)
