"""Every query of the notifications service (DOCUMENTS.md describes the documents).

Each query passes `session=current_session()`, so a use case called from a message
handler reads and writes in the handler's transaction.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_notifications.storage.digests import Digests
from weft_notifications.storage.email_outbox import EmailOutbox
from weft_notifications.storage.erasure import PersonErasure
from weft_notifications.storage.inbox import Inbox
from weft_notifications.storage.preferences import Preferences
from weft_notifications.storage.read_model import ReadModel
from weft_notifications.storage.webhooks import Webhooks
from weft_shared.storage.client import ensure_collection


class NotificationsStorage:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        self.view = ReadModel(db)
        self.inbox = Inbox(db)
        self.preferences = Preferences(db)
        self.email_outbox = EmailOutbox(db)
        self.digests = Digests(db)
        self.webhooks = Webhooks(db)
        self.erasure = PersonErasure(db, self.webhooks)

    async def create_indexes(self) -> None:
        """Idempotent, on every start; every collection exists before a transaction writes to it."""
        await self.view.create_indexes()
        await self.inbox.create_indexes()
        await self.preferences.create_indexes()
        await self.email_outbox.create_indexes()
        await self.digests.create_indexes()
        await self.webhooks.create_indexes()
        for collection in (self.view.communities, self.view.people, self.inbox.counters):
            await ensure_collection(collection)
