"""Erasure tombstones: which people were erased, and when, by a hash of their id.

Every service keeps its own `erased_people` collection. It lets a consumer drop a
message about a person that was sent before they were erased (a late or
redelivered one) instead of recreating their data, while a person who comes back
with the same account afterwards starts afresh (their new messages are newer).
The document holds no id, only its SHA-256: a tombstone names nobody by itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
COLLECTION = "erased_people"
# The reason a message gives when the erasure itself caused it (rsvp.cancelled).
ERASURE_REASON = "person_erased"


def person_hash(user_id: str) -> str:
    return hashlib.sha256(b"weft-erased-person\0" + user_id.encode()).hexdigest()


class ErasedPeople:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[COLLECTION]

    async def create_indexes(self) -> None:
        await ensure_collection(self.collection)

    async def record(self, user_id: str, erased_at: datetime) -> bool:
        """Keep the tombstone (the latest erasure wins); True if this erasure is new here,
        False for a redelivery of one already recorded."""
        before = await self.collection.find_one_and_update(
            {"_id": person_hash(user_id)},
            {"$max": {"erased_at": erased_at}},
            upsert=True,
            session=current_session(),
        )
        return before is None or before["erased_at"] < erased_at

    async def erased_at(self, user_id: str) -> datetime | None:
        doc = await self.collection.find_one({"_id": person_hash(user_id)}, session=current_session())
        return doc["erased_at"] if doc is not None else None

    async def is_stale(self, envelope: Envelope, payload: MessagePayload) -> bool:
        """A message about an erased person (its `user_id`, or its RSVP's) sent no later than
        their erasure, or sent because of it (an RSVP the erasure ended): a consumer drops it."""
        if isinstance(payload, PersonErased):
            return False
        user_id = getattr(payload, "user_id", None) or getattr(getattr(payload, "rsvp", None), "user_id", None)
        if not isinstance(user_id, str):
            return False
        erased_at = await self.erased_at(user_id)
        if erased_at is None:
            return False
        return envelope.time <= erased_at or getattr(payload, "reason", None) == ERASURE_REASON
