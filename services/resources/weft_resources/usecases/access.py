"""Who may see and do what (404 when a person may not know a thing exists, 403 when
they may see it but not do this). Every view goes through `Sight`, so one rule
(domain/standing.py) applies whichever community a thing is reached through."""

from __future__ import annotations

from weft_resources.domain.documents import Doc
from weft_resources.domain.standing import Standing, can_see_resource, can_see_thread, may_post
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.base import MessagePayload
from weft_shared.errors import Forbidden, NotFound
from weft_shared.service.actor import Actor, Person, System
from weft_shared.storage.unit_of_work import Transaction


def hidden(community: Doc | None) -> bool:
    """Unknown to the membership view counts as hidden: nothing of it shows outside."""
    return community is None or community.get("visibility") == "hidden"


class Sight:
    """What one person may see. Which communities are hidden is read once per request."""

    def __init__(self, ctx: ResourcesContext, standing: Standing) -> None:
        self.ctx = ctx
        self.standing = standing
        self._communities: dict[str, Doc | None] = {}

    async def community(self, community_id: str) -> Doc | None:
        if community_id not in self._communities:
            self._communities[community_id] = await self.ctx.storage.membership.community(community_id)
        return self._communities[community_id]

    async def is_hidden(self, community_id: str) -> bool:
        return hidden(await self.community(community_id))

    async def may_know(self, community_id: str) -> bool:
        return self.standing.is_member(community_id) or not await self.is_hidden(community_id)

    async def can_see_resource(self, item: Doc) -> bool:
        return can_see_resource(item, self.standing, community_hidden=await self.is_hidden(item["community_id"]))

    async def can_see_thread(self, thread: Doc) -> bool:
        return can_see_thread(thread, self.standing, community_hidden=await self.is_hidden(thread["community_id"]))

    async def may_post(self, community_id: str) -> bool:
        community = await self.community(community_id)
        archived = community is None or bool(community.get("archived"))
        return may_post(self.standing, community_id, community_archived=archived)


async def sight_of(ctx: ResourcesContext, user_id: str) -> Sight:
    return Sight(ctx, await ctx.storage.membership.standing(user_id))


async def known_community(ctx: ResourcesContext, person: Person, community_id: str) -> tuple[Doc, Sight]:
    """The community from the membership view, if `person` may know it exists."""
    sight = await sight_of(ctx, person.id)
    community = await sight.community(community_id)
    if community is None or not await sight.may_know(community_id):
        raise NotFound("no such community")
    return community, sight


async def posting_community(ctx: ResourcesContext, person: Person, community_id: str) -> tuple[Doc, Sight]:
    """The community, if `person` may post in it (an active member, not banned, not archived).
    Holds the membership fact, so a removal racing with the post retries one of them."""
    community, sight = await known_community(ctx, person, community_id)
    if not await sight.may_post(community_id):
        if community.get("archived"):
            raise Forbidden("the community is archived: nothing new can be posted")
        raise Forbidden("only the community's active members can do this")
    await ctx.storage.membership.hold_member(community_id, person.id)
    return community, sight


def require_staff(sight: Sight, community_id: str) -> None:
    if not sight.standing.is_staff(community_id):
        raise Forbidden("only the community's owners and facilitators can do this")


def actor_name(actor: Actor) -> str:
    """Who messages name as having done it: the person, or whom the system acted for."""
    if isinstance(actor, System):
        return actor.on_behalf_of or "system"
    return actor.id


def announce(
    tx: Transaction, aggregate: str, community_id: str, payload: MessagePayload, *, message_id: str | None = None
) -> None:
    """Send `payload` once the transaction commits; messages about one aggregate
    (`resources/<id>`, `threads/<id>`) go out in commit order. `message_id`: the id a
    sealed list in the payload was sealed for (weft_shared.messaging.sealed)."""
    tx.announce(payload, aggregate=aggregate, community_id=community_id, message_id=message_id)
