"""The notifications service's own read model of what other services own: who
belongs to which community in what role, community names and visibility, links
between communities, who holds a place on which event, and people's names and
email addresses.

Fed only by messages (handlers/); never by calling another service. Each document
holds the whole current state of its subject plus the stream sequence of the
message it came from, so a message delivered late never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.storage.client import ensure_collection
from weft_shared.storage.read_models import MembershipFacts, apply_if_newer, member_key
from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
STAFF_ROLES = ("owner", "facilitator")


def place_key(event_id: str, user_id: str) -> str:
    return f"{event_id}:{user_id}"


class ReadModel(MembershipFacts):
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        super().__init__(db.view_communities, db.view_members, db.view_links)
        self.places: AsyncCollection[Doc] = db.view_places
        self.people: AsyncCollection[Doc] = db.view_people
        # Titles and times of events, for notices whose message names an event by id only.
        self.events: AsyncCollection[Doc] = db.view_events

    async def create_indexes(self) -> None:
        # Fan-out reads a community's active members in user order (keyset batches).
        await self.members.create_index([("community_id", ASCENDING), ("active", ASCENDING), ("user_id", ASCENDING)])
        await self.members.create_index([("community_id", ASCENDING), ("active", ASCENDING), ("role", ASCENDING)])
        # One per kind of sharing: every field of the filter in the index (secantusd-py's planner
        # scans otherwise).
        for sharing in ("share_events", "share_resources"):
            await self.links.create_index([("communities", ASCENDING), ("active", ASCENDING), (sharing, ASCENDING)])
        await self.places.create_index([("event_id", ASCENDING), ("active", ASCENDING), ("user_id", ASCENDING)])
        await self.people.create_index("email", sparse=True)
        for collection in (self.links, self.places, self.events):
            await ensure_collection(collection)

    # -- recording facts (communities, members and links: MembershipFacts) ---------

    async def record_place(self, event_id: str, user_id: str, state: Doc, sequence: int) -> bool:
        doc = {"event_id": event_id, "user_id": user_id, **state}
        return await apply_if_newer(self.places, place_key(event_id, user_id), doc, sequence)

    async def record_contact(self, user_id: str, email: str | None, sequence: int) -> bool:
        """A person's address as membership last announced it (guarded apart from their name)."""
        return await apply_if_newer(self.people, user_id, {"email": email}, sequence, seq_field="email_seq")

    async def record_event(self, event_id: str, state: Doc, sequence: int) -> bool:
        return await apply_if_newer(self.events, event_id, state, sequence)

    async def record_name(self, user_id: str, display_name: str, sequence: int) -> bool:
        """A name seen in a message (a join, a join request, a profile): the latest one wins."""
        return await apply_if_newer(self.people, user_id, {"display_name": display_name}, sequence)

    # -- questions ----------------------------------------------------------------

    async def event(self, event_id: str) -> Doc | None:
        return await self.events.find_one({"_id": event_id}, session=current_session())

    async def person(self, user_id: str) -> Doc | None:
        return await self.people.find_one({"_id": user_id}, session=current_session())

    async def people_by_id(self, user_ids: list[str]) -> dict[str, Doc]:
        docs = await self.people.find({"_id": {"$in": user_ids}}, session=current_session()).to_list()
        return {d["_id"]: d for d in docs}

    async def names(self, user_ids: list[str]) -> dict[str, str]:
        """Display names of those of `user_ids` the read model knows one for."""
        docs = await self.people.find(
            {"_id": {"$in": user_ids}}, projection={"display_name": 1}, session=current_session()
        ).to_list()
        return {d["_id"]: d["display_name"] for d in docs if d.get("display_name")}

    async def community_names(self, community_ids: list[str]) -> dict[str, str]:
        docs = await self.communities.find(
            {"_id": {"$in": community_ids}}, projection={"name": 1}, session=current_session()
        ).to_list()
        return {d["_id"]: d["name"] for d in docs if d.get("name")}

    async def owners(self, community_ids: list[str]) -> list[str]:
        """The active owners of any of these communities (one equality query each: every planner reads those)."""
        found: set[str] = set()
        for community_id in community_ids:
            found.update(await self.staff(community_id, roles=("owner",)))
        return sorted(found)

    async def staff(self, community_id: str, roles: tuple[str, ...] = STAFF_ROLES) -> list[str]:
        query = {"community_id": community_id, "active": True, "role": {"$in": list(roles)}}
        docs = await self.members.find(query, projection={"user_id": 1}, session=current_session()).to_list()
        return sorted(d["user_id"] for d in docs)

    async def hold_communities(self, community_ids: list[str]) -> set[str]:
        """Write these communities' documents in the caller's transaction and return the hidden
        ones. A notice naming a community and that community turning hidden then write one
        document, so one of the two transactions retries and sees the other (no write skew:
        an item is either withdrawn, or never given to an outsider)."""
        if not community_ids:
            return set()
        session = current_session()
        await self.communities.update_many({"_id": {"$in": community_ids}}, {"$inc": {"holds": 1}}, session=session)
        query = {"_id": {"$in": community_ids}}
        docs = await self.communities.find(query, projection={"visibility": 1}, session=session).to_list()
        return {d["_id"] for d in docs if d.get("visibility") == "hidden"}

    async def active_members_among(self, community_id: str, user_ids: list[str]) -> set[str]:
        """Which of these people are active members of the community (read by `_id`)."""
        keys = [member_key(community_id, u) for u in user_ids]
        query = {"_id": {"$in": keys}}
        docs = await self.members.find(
            query, projection={"user_id": 1, "active": 1}, session=current_session()
        ).to_list()
        return {d["user_id"] for d in docs if d.get("active")}

    async def is_active_member(self, community_id: str, user_id: str) -> bool:
        doc = await self.members.find_one(
            {"_id": member_key(community_id, user_id)}, projection={"active": 1}, session=current_session()
        )
        return bool(doc and doc.get("active"))

    async def member_batches(self, community_id: str, batch: int = 1000) -> AsyncIterator[list[str]]:
        """A community's active members, in user-id order, `batch` at a time (keyset, index-only)."""
        after = ""
        session = current_session()
        while True:
            query = {"community_id": community_id, "active": True, "user_id": {"$gt": after}}
            docs = (
                await self.members.find(query, projection={"_id": 0, "user_id": 1}, session=session)
                .sort([("user_id", ASCENDING)])
                .limit(batch)
                .to_list()
            )
            if not docs:
                return
            users = [d["user_id"] for d in docs]
            yield users
            if len(users) < batch:
                return
            after = users[-1]

    async def linked_communities(self, community_id: str, *, sharing: str) -> list[str]:
        """Communities with an active link to this one that shares `sharing` (`share_events`, ...)."""
        query = {"communities": community_id, "active": True, sharing: True}
        docs = await self.links.find(query, session=current_session()).to_list()
        return sorted({c for d in docs for c in d["communities"] if c != community_id})

    async def holders(self, event_id: str) -> list[str]:
        """People with a confirmed place on, or on the waitlist of, an event."""
        query = {"event_id": event_id, "active": True}
        docs = await self.places.find(query, projection={"user_id": 1}, session=current_session()).to_list()
        return sorted(d["user_id"] for d in docs)
