"""Active-member counts, kept beside the memberships in the same transaction.

Counting a community's memberships on every page view reads one index entry
per member (100,000 in a large community); a counter is read in one step. The
counter is split over a few documents per community so that people joining one
community at the same moment rarely write the same document (concurrent writes
of one document conflict, and all but one transaction retry).

Documents: `{_id: "<community_id>:<shard>", community_id, n}`; the count is the
sum over the community's documents, so one document with the whole count (e.g.
written by a seeding script) is also correct.
"""

from __future__ import annotations

import zlib

from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.storage.documents import Database, Doc
from weft_shared.storage.unit_of_work import current_session

SHARDS = 8


class MemberCounts:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.member_counts

    async def create_indexes(self) -> None:
        await self.collection.create_index("community_id")

    async def add(self, community_id: str, user_id: str, delta: int) -> None:
        # The shard follows the person, so a re-run of the same transaction picks the same one.
        shard = zlib.crc32(user_id.encode()) % SHARDS
        await self.collection.update_one(
            {"_id": f"{community_id}:{shard}"},
            {"$inc": {"n": delta}, "$setOnInsert": {"community_id": community_id}},
            upsert=True,
            session=current_session(),
        )

    async def totals(self, community_ids: list[str]) -> dict[str, int]:
        """The counts of several communities in one query (a directory page); 0 for none."""
        counts = dict.fromkeys(community_ids, 0)
        if not community_ids:
            return counts
        cursor = self.collection.find(
            {"community_id": {"$in": community_ids}},
            projection={"_id": 0, "community_id": 1, "n": 1},
            session=current_session(),
        )
        for doc in await cursor.to_list():
            counts[doc["community_id"]] += int(doc["n"])
        return counts

    async def total(self, community_id: str) -> int:
        cursor = self.collection.find(
            {"community_id": community_id}, projection={"_id": 0, "n": 1}, session=current_session()
        )
        return sum(int(d["n"]) for d in await cursor.to_list())
