"""How long notifications keeps what it has done: read inbox items, finished webhook
deliveries, sent or failed mails (TTL indexes, lifetimes from the settings).

An unread inbox item is kept until it is read: the unread count is a counter kept
beside the items, and an item vanishing unread would leave it wrong.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.retention import ensure_ttl_index

INBOX_TTL = "read_at_ttl"
WEBHOOK_DELIVERY_TTL = "finished_at_ttl"
EMAIL_SENT_TTL = "sent_at_ttl"
EMAIL_FAILED_TTL = "failed_at_ttl"


async def ensure_retention(
    db: AsyncDatabase[dict[str, Any]], *, inbox_days: float, webhook_delivery_days: float, email_days: float
) -> None:
    await ensure_ttl_index(db.inbox, "read_at", days=inbox_days, name=INBOX_TTL)
    await ensure_ttl_index(db.webhook_deliveries, "finished_at", days=webhook_delivery_days, name=WEBHOOK_DELIVERY_TTL)
    await ensure_ttl_index(db.email_outbox, "sent_at", days=email_days, name=EMAIL_SENT_TTL)
    await ensure_ttl_index(db.email_outbox, "failed_at", days=email_days, name=EMAIL_FAILED_TTL)
