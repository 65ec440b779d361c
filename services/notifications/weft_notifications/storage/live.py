"""How a process learns that someone's inbox changed, whichever replica wrote it.

Every delivery and every read changes the person's `inbox_counters` document (its `seq`
or its `unread`) in the same transaction as the items, so that one collection says
everything the live stream needs: one change stream on it per process, whose events
carry only the person's id (the stream re-reads the rest through the indexes), and,
where a server has no change streams, one query for the counters of many people.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_notifications.storage.inbox import BATCH
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
# Inserts are a person's first item (the counter is upserted); replaces are never written
# by us, but an operator's restore would write them.
_CHANGES: list[Doc] = [
    {"$match": {"operationType": {"$in": ["insert", "update", "replace"]}}},
    {"$project": {"documentKey": 1}},
]


class CounterChanges:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.counters: AsyncCollection[Doc] = db.inbox_counters

    async def changed_people(self, on_open: Callable[[], None]) -> AsyncIterator[str]:
        """The id of each person whose counter changes (committed changes only), from the
        moment `on_open` is called."""
        stream = await self.counters.watch(_CHANGES, session=current_session())
        async with stream:
            on_open()
            async for change in stream:
                yield change["documentKey"]["_id"]

    async def positions(self, user_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(seq, unread) of each of these people who has a counter."""
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(user_ids), BATCH):
            chunk = list(user_ids[start : start + BATCH])
            cursor = self.counters.find(
                {"_id": {"$in": chunk}}, projection={"seq": 1, "unread": 1}, session=current_session()
            )
            for doc in await cursor.to_list():
                found[doc["_id"]] = (int(doc.get("seq", 0)), int(doc.get("unread", 0)))
        return found
