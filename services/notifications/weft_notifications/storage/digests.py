"""Digests: one record per person and period (`_id` = `<user>:<period>`, e.g.
`ana:daily:2026-12-01`; `count` 0 for a period with nothing to tell, which sends
no mail), written in the transaction that queues its mail, so a period's digest
goes once across restarts and replicas (a second writer's insert conflicts, and
its retry finds the record).

{_id, user_id, kind, period, due_at, through_seq (the last item listed), count, created_at}

The queries on inbox items routed to a digest live here too, with their index.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


class Digests:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.collection: AsyncCollection[Doc] = db.digests
        self.items: AsyncCollection[Doc] = db.inbox

    async def create_indexes(self) -> None:
        await self.collection.create_index([("user_id", ASCENDING), ("kind", ASCENDING), ("through_seq", DESCENDING)])
        # Who has unread items waiting for a digest, and which.
        await self.items.create_index([("channel", ASCENDING), ("read", ASCENDING), ("user_id", ASCENDING)])
        await self.items.create_index(
            [("user_id", ASCENDING), ("channel", ASCENDING), ("read", ASCENDING), ("seq", ASCENDING)]
        )

    async def waiting(self, channel: str) -> list[str]:
        """People with unread items routed to this digest channel."""
        users = await self.items.distinct("user_id", {"channel": channel, "read": False}, session=current_session())
        return sorted(str(u) for u in users)

    async def unread(self, user_id: str, channel: str, after_seq: int, limit: int) -> list[Doc]:
        """The person's unread items for this digest numbered after `after_seq`, oldest first."""
        query = {"user_id": user_id, "channel": channel, "read": False, "seq": {"$gt": after_seq}}
        cursor = self.items.find(query, session=current_session()).sort([("seq", ASCENDING)]).limit(limit)
        return await cursor.to_list()

    async def record(self, record_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": record_id}, session=current_session())

    async def existing(self, record_ids: list[str]) -> set[str]:
        docs = await self.collection.find(
            {"_id": {"$in": record_ids}}, projection={"_id": 1}, session=current_session()
        ).to_list()
        return {d["_id"] for d in docs}

    async def last(self, user_id: str, kind: str) -> Doc | None:
        cursor = (
            self.collection.find({"user_id": user_id, "kind": kind}, session=current_session())
            .sort([("through_seq", DESCENDING)])
            .limit(1)
        )
        docs = await cursor.to_list()
        return docs[0] if docs else None

    async def add(self, record: Doc) -> None:
        await self.collection.insert_one(record, session=current_session())
