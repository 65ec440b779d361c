"""What the notifications service holds about one person, for their export: their inbox,
preferences, the mail sent to them, digests, the contact details it keeps, and the
webhooks they own with their deliveries (never the signing secrets)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.privacy.personal_records import one, records

Doc = dict[str, Any]
WEBHOOK_HIDDEN = {"secret": 0, "previous_secret": 0}


class NotificationsPersonalData:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        """Lookups only an export makes: a person's mail log, the webhooks they created."""
        await self._db.email_outbox.create_index([("user_id", ASCENDING)])
        await self._db.webhooks.create_index([("created_by", ASCENDING)])

    async def gather(self, user_id: str) -> dict[str, Any]:
        db = self._db
        webhooks = await records(db.webhooks, {"created_by": user_id}, projection=WEBHOOK_HIDDEN)
        webhook_ids = [w["_id"] for w in webhooks]
        deliveries = await records(db.webhook_deliveries, {"webhook_id": {"$in": webhook_ids}}) if webhook_ids else []
        return {
            "inbox": await records(db.inbox, {"user_id": user_id}, sort="seq"),
            "preferences": await one(db.preferences, {"_id": user_id}),
            "email_log": await records(db.email_outbox, {"user_id": user_id}),
            "digests": await records(db.digests, {"user_id": user_id}),
            "contact_details_kept": await one(db.view_people, {"_id": user_id}),
            "webhooks_owned": webhooks,
            "webhook_deliveries": deliveries,
        }
