"""The `memberships` collection: one document per (community, person), whatever
its status, with the active-member counters kept in step."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain.membership import MemberStatus, member_count_change
from weft_membership.storage.documents import Database, Doc, aggregate
from weft_membership.storage.member_counts import MemberCounts
from weft_shared.storage.erasures import person_hash
from weft_shared.storage.unit_of_work import current_session

ACTIVE = MemberStatus.ACTIVE.value
# Bans of erased people, keyed by a hash of their id (nothing else of them is kept).
KEPT_BANS = "kept_bans"


def membership_id(community_id: str, user_id: str) -> str:
    # Natural key as _id: one document per (community, person), unique for free.
    return f"{community_id}:{user_id}"


def kept_ban_id(community_id: str, user_id: str) -> str:
    return f"{community_id}:{person_hash(user_id)}"


class Memberships:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.memberships
        self.kept_bans: AsyncCollection[Doc] = db[KEPT_BANS]
        self.counts = MemberCounts(db)

    @staticmethod
    def aggregate(community_id: str, user_id: str) -> str:
        """Every message about one person's membership (joined, role changed, left…)
        is about this aggregate, so consumers receive them in commit order."""
        return aggregate("memberships", membership_id(community_id, user_id))

    async def create_indexes(self) -> None:
        await self.collection.create_index([("community_id", ASCENDING), ("status", ASCENDING), ("user_id", ASCENDING)])
        await self.collection.create_index([("user_id", ASCENDING), ("status", ASCENDING)])
        await self.collection.create_index([("community_id", ASCENDING), ("request.id", ASCENDING)])
        await self.counts.create_indexes()

    async def get(self, community_id: str, user_id: str) -> Doc | None:
        doc = await self.collection.find_one({"_id": membership_id(community_id, user_id)}, session=current_session())
        if doc is None and await self.kept_bans.find_one(
            {"_id": kept_ban_id(community_id, user_id)}, session=current_session()
        ):
            # Banned, then erased: the ban outlives the account, so erasing cannot undo it.
            return {"_id": membership_id(community_id, user_id), "community_id": community_id, "user_id": user_id,
                    "status": MemberStatus.BANNED.value}  # fmt: skip
        return doc

    async def put(self, community_id: str, user_id: str, fields: Doc, *, before: MemberStatus | None) -> None:
        """Write `fields` on the membership (creating it if there is none), where
        `before` is its status as this transaction read it. Any concurrent change
        of the same membership conflicts with this write, so the check made on
        that read still holds when the transaction commits."""
        await self.collection.update_one(
            {"_id": membership_id(community_id, user_id)},
            {"$set": fields, "$setOnInsert": {"community_id": community_id, "user_id": user_id}},
            upsert=True,
            session=current_session(),
        )
        after = MemberStatus(fields["status"]) if "status" in fields else before
        change = member_count_change(before, after)
        if change:
            await self.counts.add(community_id, user_id, change)

    async def active_count(self, community_id: str) -> int:
        return await self.counts.total(community_id)

    async def active_counts(self, community_ids: list[str]) -> dict[str, int]:
        return await self.counts.totals(community_ids)

    async def active_community_ids(self, user_id: str, limit: int = 1000) -> list[str]:
        cursor = self.collection.find(
            {"user_id": user_id, "status": ACTIVE}, projection={"community_id": 1}, session=current_session()
        )
        return [d["community_id"] for d in await cursor.limit(limit).to_list()]

    async def members_page(
        self,
        community_id: str,
        *,
        only: list[str] | None,
        exclude: list[str],
        after_user: str | None,
        limit: int,
    ) -> list[Doc]:
        """Active members by user id after `after_user`: all of them, only the
        `only` ones, or all but the `exclude` ones (both short lists: staff)."""
        query: Doc = {"community_id": community_id, "status": ACTIVE}
        if only is not None:
            query["user_id"] = {"$in": sorted(u for u in only if after_user is None or u > after_user)[:limit]}
        elif after_user is not None:
            query["user_id"] = {"$gt": after_user}
        excluded = set(exclude)
        # Reading as many more as could be excluded still fills the page.
        cursor = self.collection.find(query, session=current_session())
        docs = await cursor.sort("user_id", ASCENDING).limit(limit + len(excluded)).to_list()
        return [d for d in docs if d["user_id"] not in excluded][:limit]

    async def pending_requests_page(self, community_id: str, *, after_user: str | None, limit: int) -> list[Doc]:
        query: Doc = {"community_id": community_id, "status": MemberStatus.PENDING.value}
        if after_user is not None:
            query["user_id"] = {"$gt": after_user}
        cursor = self.collection.find(query, session=current_session())
        return await cursor.sort("user_id", ASCENDING).limit(limit).to_list()

    async def find_request(self, community_id: str, request_id: str) -> Doc | None:
        return await self.collection.find_one(
            {"community_id": community_id, "request.id": request_id}, session=current_session()
        )

    async def active_member_ids(self, community_ids: list[str]) -> set[str]:
        cursor = self.collection.find(
            {"community_id": {"$in": community_ids}},
            projection={"_id": 0, "user_id": 1, "status": 1},
            session=current_session(),
        )
        return {d["user_id"] for d in await cursor.to_list() if d["status"] == ACTIVE}
