"""Read models fed by messages: a service's own copy of facts another service owns.

Each document holds the whole current state of its subject plus the stream sequence
of the message it came from, so an older message delivered late never overwrites a
newer one, and a redelivered one changes nothing. `MembershipFacts` is the part every
consumer of membership's messages keeps alike.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


async def apply_if_newer(
    collection: AsyncCollection[Doc], key: str, state: Doc, sequence: int, *, seq_field: str = "seq"
) -> bool:
    """Upsert `state` as document `key` unless a newer message is already applied. True if
    this one is current (also when redelivered). Runs in the handler's transaction, so the
    check and the write are one step. `seq_field` keeps facts about one subject that come
    from different messages apart (a person's name and address), so a newer one of one
    kind never hides an older one of the other."""
    session = current_session()
    held = await collection.find_one({"_id": key}, projection={seq_field: 1}, session=session)
    if held is not None and held.get(seq_field, -1) > sequence:
        return False  # the stored state is newer
    await collection.update_one({"_id": key}, {"$set": {**state, seq_field: sequence}}, upsert=True, session=session)
    return True


def member_key(community_id: str, user_id: str) -> str:
    """The `_id` of a membership fact."""
    return f"{community_id}:{user_id}"


class MembershipFacts:
    """The membership facts a consuming service keeps: one document per community, per
    membership (`member_key`) and per community link, each the whole state the latest
    message gave (what a service keeps of each is its own: the `state` it records)."""

    def __init__(
        self, communities: AsyncCollection[Doc], members: AsyncCollection[Doc], links: AsyncCollection[Doc]
    ) -> None:
        self.communities = communities
        self.members = members
        self.links = links

    async def record_community(self, community_id: str, state: Doc, sequence: int) -> bool:
        return await apply_if_newer(self.communities, community_id, state, sequence)

    async def record_member(self, community_id: str, user_id: str, state: Doc, sequence: int) -> bool:
        doc = {"community_id": community_id, "user_id": user_id, **state}
        return await apply_if_newer(self.members, member_key(community_id, user_id), doc, sequence)

    async def record_link(self, link_id: str, state: Doc, sequence: int) -> bool:
        return await apply_if_newer(self.links, link_id, state, sequence)

    async def community(self, community_id: str) -> Doc | None:
        return await self.communities.find_one({"_id": community_id}, session=current_session())
