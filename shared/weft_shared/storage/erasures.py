"""Erasure tombstones: which people were erased, and when, by a hash of their id.

Every service keeps its own `erased_people` collection. It lets a consumer drop a
message about a person that was sent before they were erased (a late or
redelivered one) instead of recreating their data, while a person who comes back
with the same account afterwards starts afresh (their new messages are newer).
The document holds no id, only its SHA-256: a tombstone names nobody by itself.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

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
    # How long an answer is believed without asking again (requests come often; erasures are
    # rare): another replica refuses an erased person's old token at most this long after.
    CHECK_TTL_SECONDS = 5.0

    MAX_CACHED = 50_000
    # One cache per process and database, shared by every instance (a handler's, the auth
    # dependency's), so recording an erasure makes this process's next check ask again.
    _caches: ClassVar[dict[str, dict[str, tuple[float, datetime | None]]]] = {}

    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db[COLLECTION]
        self._checked = self._caches.setdefault(self.collection.full_name, {})

    async def create_indexes(self) -> None:
        await ensure_collection(self.collection)

    async def record(self, user_id: str, erased_at: datetime) -> bool:
        """Keep the tombstone (the latest erasure wins); True if this erasure is new here,
        False for a redelivery of one already recorded."""
        self._checked.pop(user_id, None)  # this process's next request by them asks again
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

    async def refuses(self, sub: str, issued_at: object) -> bool:
        """True for a token issued before its person's erasure (or with no `iat`): it must not
        bring them back. A token issued afterwards (they signed in again) starts afresh."""
        now = time.monotonic()
        cached = self._checked.get(sub)
        if cached is not None and now - cached[0] < self.CHECK_TTL_SECONDS:
            erased_at = cached[1]
        else:
            erased_at = await self.erased_at(sub)
            if len(self._checked) >= self.MAX_CACHED:
                self._checked.clear()
            self._checked[sub] = (now, erased_at)
        if erased_at is None:
            return False
        if erased_at.tzinfo is None:
            erased_at = erased_at.replace(tzinfo=UTC)
        return not isinstance(issued_at, int | float) or issued_at <= erased_at.timestamp()

    def forget(self, sub: str) -> None:
        """After an erasure in this process: ask the database again at once."""
        self._checked.pop(sub, None)

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
