"""The membership view: the events service's own read model of what membership
owns (communities, memberships, community links).

Fed only by membership messages (handlers/membership.py); never by calling the
membership service. Each document is the whole current state of its subject plus
the stream sequence of the message it came from, so an older message delivered
late never overwrites a newer one, and a redelivered one changes nothing.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_events.domain.events import Doc, Standing
from weft_shared.storage.read_models import MembershipFacts, member_key
from weft_shared.storage.unit_of_work import current_session

STAFF_ROLES = ("owner", "facilitator")


class MembershipView(MembershipFacts):
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db.membership_communities, db.membership_members, db.membership_links)

    async def create_indexes(self) -> None:
        await self.members.create_index([("user_id", ASCENDING), ("active", ASCENDING)])
        await self.links.create_index([("active", ASCENDING), ("share_events", ASCENDING), ("communities", ASCENDING)])

    # -- holding a fact: against write skew -------------------------------------
    # A use case that relies on a fact which a later message would undo the effects
    # of (an RSVP relies on membership, which leaving undoes; scheduling relies on the
    # community not being archived) writes the fact's document in its transaction.
    # Both transactions then write one document, so one of them retries and sees the
    # other: the leaver's new RSVP is dropped, the archived community's new event is
    # cancelled. A write that changes nothing does not conflict, hence the counter.

    async def hold_member(self, community_id: str, user_id: str) -> int | None:
        """Hold the membership fact; the stream sequence of the message it came from (None: no fact)."""
        held = await self.members.find_one_and_update(
            {"_id": member_key(community_id, user_id)},
            {"$inc": {"holds": 1}},
            projection={"seq": 1},
            session=current_session(),
        )
        return None if held is None else int(held["seq"])

    async def hold_links(self, community_ids: list[str]) -> None:
        """The event-sharing links of these communities (a partner's place relies on one)."""
        query = {"active": True, "share_events": True, "communities": {"$in": community_ids}}
        await self.links.update_many(query, {"$inc": {"holds": 1}}, session=current_session())

    async def hold_community(self, community_id: str) -> None:
        await self.communities.update_one({"_id": community_id}, {"$inc": {"holds": 1}}, session=current_session())

    # -- questions the use cases ask ---------------------------------------------

    async def standing(self, user_id: str) -> Standing:
        session = current_session()
        memberships = await self.members.find({"user_id": user_id, "active": True}, session=session).to_list()
        member_of = frozenset(m["community_id"] for m in memberships)
        staff_of = frozenset(m["community_id"] for m in memberships if m.get("role") in STAFF_ROLES)
        partner_of: set[str] = set()
        if member_of:
            query = {"active": True, "share_events": True, "communities": {"$in": sorted(member_of)}}
            for link in await self.links.find(query, session=session).to_list():
                partner_of.update(link["communities"])
        return Standing(user_id=user_id, member_of=member_of, staff_of=staff_of, partner_of=frozenset(partner_of))

    async def linked_for_events(self, a: str, b: str) -> bool:
        query = {"active": True, "share_events": True, "communities": a}
        return any(
            b in link["communities"] for link in await self.links.find(query, session=current_session()).to_list()
        )

    async def banned_from(self, user_id: str, community_ids: list[str]) -> set[str]:
        """Which of these communities have banned `user_id` (read by `_id`)."""
        keys = [member_key(c, user_id) for c in community_ids]
        docs = await self.members.find({"_id": {"$in": keys}}, session=current_session()).to_list()
        return {d["community_id"] for d in docs if d.get("banned")}

    async def active_staff(self, community_id: str, user_ids: list[str]) -> set[str]:
        keys = [member_key(community_id, u) for u in user_ids]
        docs = await self.members.find({"_id": {"$in": keys}}, session=current_session()).to_list()
        return {d["user_id"] for d in docs if d.get("active") and d.get("role") in STAFF_ROLES}
