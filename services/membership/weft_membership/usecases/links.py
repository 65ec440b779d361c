"""Peer links between communities: proposed by one owner, accepted by the other's."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from weft_membership.domain.access import Visibility, require_details, require_open, require_owner
from weft_membership.domain.membership import MemberStatus, status_of
from weft_membership.schemas import LinkPropose, LinkView
from weft_membership.storage.documents import Doc
from weft_membership.storage.links import Links, pair_key
from weft_membership.usecases.context import Context
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.membership import LinkAccepted, LinkFacts, LinkProposed, LinkRemoved
from weft_shared.errors import BadRequest, Conflict, Forbidden, NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

LIVE = ["proposed", "active"]
ALREADY_LINKED = "these communities are already linked or a link is proposed"


def link_facts(link: Doc) -> LinkFacts:
    return LinkFacts(
        link_id=link["_id"],
        from_community_id=link["from_community_id"],
        to_community_id=link["to_community_id"],
        share_events=link["share_events"],
        share_resources=link["share_resources"],
    )


def link_view(link: Doc) -> LinkView:
    return LinkView(id=link["_id"], **{k: link.get(k) for k in LinkView.model_fields if k != "id"})


def announce_to_both(tx: Transaction, link: Doc, payload: MessagePayload) -> None:
    """One message per community, so each community's subscribers see it."""
    for community_id in (link["from_community_id"], link["to_community_id"]):
        tx.announce(payload, aggregate=Links.aggregate(link), community_id=community_id)


async def propose_link(ctx: Context, actor: Person, community_id: str, body: LinkPropose) -> LinkView:
    async def work(tx: Transaction) -> Doc:
        access = await ctx.access(community_id, actor)
        require_owner(access.viewer)
        require_open(access.community)
        if body.to_community_id == community_id:
            raise BadRequest("a community cannot link to itself", field="to_community_id")
        other = await ctx.store.communities.get(body.to_community_id)
        if other is not None and other["visibility"] == Visibility.HIDDEN:
            membership = await ctx.store.memberships.get(other["_id"], actor.id)
            if status_of(membership) is not MemberStatus.ACTIVE:
                other = None  # a hidden community does not exist for outsiders
        if other is None:
            raise BadRequest("no such community to link to", field="to_community_id")
        if other.get("archived"):
            raise Conflict("the other community is archived")
        key = pair_key(community_id, other["_id"])
        existing = await ctx.store.links.by_pair(key)
        if existing is not None and existing["status"] in LIVE:
            raise Conflict(ALREADY_LINKED)
        fields: Doc = {
            "from_community_id": community_id,
            "to_community_id": other["_id"],
            "share_events": body.share_events,
            "share_resources": body.share_resources,
            "status": "proposed",
            "proposed_by": actor.id,
            "created_at": now(),
            "accepted_at": None,
            "accepted_by": None,
        }
        if existing is not None:  # a removed link between the same pair comes back
            link = {**existing, **fields}
            await ctx.store.links.set_fields(existing["_id"], fields)
        else:
            link = {"_id": new_id(), "pair_key": key, **fields}
            await ctx.store.links.insert(link)
        announce_to_both(tx, link, LinkProposed(link=link_facts(link), proposed_by=actor.id))
        return link

    try:
        return link_view(await ctx.uow.run(work))
    except DuplicateKeyError:  # another proposal for the pair committed first
        raise Conflict(ALREADY_LINKED) from None


async def _live_link(ctx: Context, community_id: str, link_id: str) -> Doc:
    link = await ctx.store.links.get(link_id)
    if (
        link is None
        or link["status"] not in LIVE
        or community_id not in (link["from_community_id"], link["to_community_id"])
    ):
        raise NotFound("no such link")
    return link


async def accept_link(ctx: Context, actor: Person, community_id: str, link_id: str) -> LinkView:
    async def work(tx: Transaction) -> Doc:
        access = await ctx.access(community_id, actor)
        link = await _live_link(ctx, community_id, link_id)
        if link["to_community_id"] != community_id:
            raise Forbidden("the link must be accepted by the community it was proposed to")
        require_owner(access.viewer)
        require_open(access.community)
        if link["status"] == "active":
            return link
        fields = {"status": "active", "accepted_by": actor.id, "accepted_at": now()}
        await ctx.store.links.set_fields(link_id, fields)
        announce_to_both(tx, link, LinkAccepted(link=link_facts(link), accepted_by=actor.id))
        return {**link, **fields}

    link = await ctx.uow.run(work)
    return link_view(await _as_known_to(ctx, actor, community_id, link))


async def remove_link(ctx: Context, actor: Person, community_id: str, link_id: str) -> None:
    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        link = await _live_link(ctx, community_id, link_id)
        require_owner(access.viewer)
        await ctx.store.links.set_fields(link_id, {"status": "removed", "removed_by": actor.id, "removed_at": now()})
        announce_to_both(tx, link, LinkRemoved(link=link_facts(link), removed_by=actor.id))

    await ctx.uow.run(work)


async def list_links(ctx: Context, actor: Person, community_id: str) -> list[LinkView]:
    access = await ctx.access(community_id, actor)
    require_details(access.community, access.viewer)
    statuses = LIVE if access.viewer.is_owner else ["active"]
    found = await ctx.store.links.of_community(community_id, statuses=statuses)
    known = await ctx.knowable({other_side(link, community_id) for link in found}, actor)
    # A link to a community the caller may not know of is not shown to members: its id would reveal it.
    # Its owners see it without the other community's id, so they can review, accept and remove it.
    shown = [link for link in found if other_side(link, community_id) in known or access.viewer.is_owner]
    return [link_view(anonymised(link, community_id, known)) for link in shown]


async def _as_known_to(ctx: Context, actor: Person, community_id: str, link: Doc) -> Doc:
    other = other_side(link, community_id)
    return anonymised(link, community_id, await ctx.knowable({other}, actor))


def anonymised(link: Doc, community_id: str, known: set[str]) -> Doc:
    """The link without the other community's id (nor its proposer) when the caller may not know of it."""
    other = other_side(link, community_id)
    if other in known:
        return link
    side = "to_community_id" if link["to_community_id"] == other else "from_community_id"
    hidden_proposer = link["from_community_id"] == other
    return {**link, side: None, **({"proposed_by": None} if hidden_proposer else {})}


def other_side(link: Doc, community_id: str) -> str:
    other: str = link["to_community_id"] if link["from_community_id"] == community_id else link["from_community_id"]
    return other
