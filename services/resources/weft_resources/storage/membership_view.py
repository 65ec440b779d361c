"""The membership view: the resources service's own read model of what membership
owns (communities, memberships with roles and bans, community links).

Fed only by membership messages (handlers/membership.py), never by calling the
membership service. Each document is the whole current state of its subject plus
the stream sequence of the message it came from, so an older message delivered
late never overwrites a newer one, and a redelivered one changes nothing.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_resources.domain.standing import STAFF_ROLES, Standing
from weft_shared.storage.read_models import MembershipFacts, member_key
from weft_shared.storage.unit_of_work import current_session


class MembershipView(MembershipFacts):
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db.membership_communities, db.membership_members, db.membership_links)

    async def create_indexes(self) -> None:
        await self.members.create_index([("user_id", ASCENDING), ("active", ASCENDING)])
        # The active staff of a community (who is told of reports and reviews due).
        await self.members.create_index([("community_id", ASCENDING), ("active", ASCENDING), ("role", ASCENDING)])
        await self.links.create_index(
            [("active", ASCENDING), ("share_resources", ASCENDING), ("communities", ASCENDING)]
        )

    # -- holding a fact: against write skew -------------------------------------
    # A use case that relies on a fact a later message would undo (posting relies on
    # membership, which a removal undoes) writes the fact's document in its transaction,
    # so that of the two transactions one retries and sees the other.

    async def hold_member(self, community_id: str, user_id: str) -> None:
        await self.members.update_one(
            {"_id": member_key(community_id, user_id)}, {"$inc": {"holds": 1}}, session=current_session()
        )

    async def hold_community(self, community_id: str) -> None:
        await self.communities.update_one({"_id": community_id}, {"$inc": {"holds": 1}}, session=current_session())

    # -- questions the use cases ask ---------------------------------------------

    async def member(self, community_id: str, user_id: str) -> Doc | None:
        return await self.members.find_one({"_id": member_key(community_id, user_id)}, session=current_session())

    async def standing(self, user_id: str) -> Standing:
        session = current_session()
        memberships = await self.members.find({"user_id": user_id, "active": True}, session=session).to_list()
        member_of = frozenset(m["community_id"] for m in memberships)
        staff_of = frozenset(m["community_id"] for m in memberships if m.get("role") in STAFF_ROLES)
        linked: dict[str, set[str]] = {}
        if member_of:
            query = {"active": True, "share_resources": True, "communities": {"$in": sorted(member_of)}}
            for link in await self.links.find(query, session=session).to_list():
                a, b = link["communities"]
                if a in member_of:
                    linked.setdefault(a, set()).add(b)
                if b in member_of:
                    linked.setdefault(b, set()).add(a)
        return Standing(
            user_id=user_id,
            member_of=member_of,
            staff_of=staff_of,
            linked={c: frozenset(others) for c, others in linked.items()},
        )

    async def linked_for_resources(self, a: str, b: str) -> bool:
        query = {"active": True, "share_resources": True, "communities": a}
        links = await self.links.find(query, session=current_session()).to_list()
        return any(b in link["communities"] for link in links)

    async def linked_for_resources_with(self, community_id: str) -> list[str]:
        """The communities linked with `community_id` by an active link that shares resources."""
        query = {"active": True, "share_resources": True, "communities": community_id}
        links = await self.links.find(query, projection={"communities": 1}, session=current_session()).to_list()
        return sorted({c for link in links for c in link["communities"] if c != community_id})

    async def active_staff(self, community_id: str) -> list[str]:
        query = {"community_id": community_id, "active": True, "role": {"$in": list(STAFF_ROLES)}}
        docs = await self.members.find(query, projection={"user_id": 1}, session=current_session()).to_list()
        return sorted(d["user_id"] for d in docs)
