"""The events service's own read model of membership facts (event-carried state).

Fed only by membership messages; never by calling the membership service. Each
fact is the whole current state of its subject plus the stream sequence of the
message it came from, so an older fact delivered late never overwrites a newer
one, and a redelivered fact changes nothing.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_events.domain import Standing
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
STAFF_ROLES = ("owner", "facilitator")


async def create_fact_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.member_facts.create_index([("user_id", ASCENDING), ("active", ASCENDING)])
    await db.member_facts.create_index([("community_id", ASCENDING), ("active", ASCENDING)])
    await db.link_facts.create_index("communities")


class Facts:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.communities = db.community_facts
        self.members = db.member_facts
        self.links = db.link_facts

    async def _apply(self, collection_name: str, key: str, state: Doc, sequence: int) -> bool:
        """Upsert `state` unless a newer fact is already held. True if this fact is
        current (also when redelivered). Runs in the handler's transaction, so the
        check and the write are one step."""
        collection = {"community_facts": self.communities, "member_facts": self.members, "link_facts": self.links}[
            collection_name
        ]
        session = current_session()
        held = await collection.find_one({"_id": key}, projection={"seq": 1}, session=session)
        if held is not None and held["seq"] > sequence:
            return False  # the stored fact is newer
        await collection.update_one({"_id": key}, {"$set": {**state, "seq": sequence}}, upsert=True, session=session)
        return True

    async def community(self, community_id: str, state: Doc, sequence: int) -> bool:
        return await self._apply("community_facts", community_id, state, sequence)

    async def member(self, community_id: str, user_id: str, state: Doc, sequence: int) -> bool:
        key = f"{community_id}:{user_id}"
        return await self._apply(
            "member_facts", key, {"community_id": community_id, "user_id": user_id, **state}, sequence
        )

    async def link(self, link_id: str, state: Doc, sequence: int) -> bool:
        return await self._apply("link_facts", link_id, state, sequence)

    # -- questions the use cases ask -------------------------------------------

    async def get_community(self, community_id: str) -> Doc | None:
        return await self.communities.find_one({"_id": community_id}, session=current_session())

    async def standing(self, user_id: str) -> Standing:
        session = current_session()
        memberships = await self.members.find({"user_id": user_id, "active": True}, session=session).to_list()
        member_of = frozenset(m["community_id"] for m in memberships)
        staff_of = frozenset(m["community_id"] for m in memberships if m.get("role") in STAFF_ROLES)
        partner_of: set[str] = set()
        if member_of:
            links = await self.links.find(
                {"communities": {"$in": sorted(member_of)}, "active": True, "share_events": True}, session=session
            ).to_list()
            for link in links:
                partner_of.update(link["communities"])
        return Standing(user_id=user_id, member_of=member_of, staff_of=staff_of, partner_of=frozenset(partner_of))

    async def linked_for_events(self, a: str, b: str) -> bool:
        link = await self.links.find_one(
            {"communities": {"$all": [a, b]}, "active": True, "share_events": True}, session=current_session()
        )
        return link is not None

    async def active_staff(self, community_id: str, user_ids: list[str]) -> set[str]:
        docs = await self.members.find(
            {"community_id": community_id, "user_id": {"$in": user_ids}, "active": True}, session=current_session()
        ).to_list()
        return {d["user_id"] for d in docs if d.get("role") in STAFF_ROLES}
