"""What every service erases the same way: the person's `Idempotency-Key` records
(they name the caller and keep sealed answers about them)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.erasures import person_hash
from weft_shared.storage.idempotency import COLLECTION as IDEMPOTENCY_KEYS
from weft_shared.storage.unit_of_work import current_session

# How an anonymised person reads wherever a name must stay (attendance, a thread).
ERASED_NAME = "Erased person"


async def forget_idempotency_keys(db: AsyncDatabase[dict[str, Any]], user_id: str) -> None:
    await db[IDEMPOTENCY_KEYS].delete_many({"principal": user_id}, session=current_session())


def pseudonym(user_id: str) -> str:
    """The one stable stand-in for an erased person wherever a record must stay
    (an attendance, a post's author): the same person reads as the same author."""
    return f"erased-{person_hash(user_id)[:16]}"
