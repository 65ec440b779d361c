"""Peer links between communities: proposed by one owner, accepted by the other's."""

from __future__ import annotations

from weft_membership.domain import Visibility
from weft_membership.repository import Doc
from weft_membership.schemas import LinkPropose, LinkView
from weft_membership.usecases.context import Context
from weft_shared.auth import Principal
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.membership import LinkAccepted, LinkFacts, LinkProposed, LinkRemoved
from weft_shared.errors import BadRequest, Conflict, Forbidden, NotFound
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Outgoing

LIVE = ["proposed", "active"]


def pair_key(a: str, b: str) -> str:
    return ":".join(sorted((a, b)))


def facts(link: Doc) -> LinkFacts:
    return LinkFacts(
        link_id=link["_id"],
        from_community_id=link["from_community_id"],
        to_community_id=link["to_community_id"],
        share_events=link["share_events"],
        share_resources=link["share_resources"],
    )


def link_view(link: Doc) -> LinkView:
    return LinkView(id=link["_id"], **{k: link.get(k) for k in LinkView.model_fields if k != "id"})


def to_both(ctx: Context, link: Doc, payload: MessagePayload) -> list[Outgoing]:
    """One message per community, so each community's subscribers see it."""
    return [ctx.message(payload, link["from_community_id"]), ctx.message(payload, link["to_community_id"])]


async def propose_link(ctx: Context, user: Principal, community_id: str, body: LinkPropose) -> LinkView:
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_owner(viewer)
    ctx.require_open(community)
    if body.to_community_id == community_id:
        raise BadRequest("a community cannot link to itself", field="to_community_id")
    other = await ctx.repo.get_community(body.to_community_id)
    other_member = (
        other is not None and (await ctx.repo.get_membership(other["_id"], user.sub) or {}).get("status") == "active"
    )
    if other is None or (other["visibility"] == Visibility.HIDDEN and not other_member):
        raise BadRequest("no such community to link to", field="to_community_id")
    if other.get("archived"):
        raise Conflict("the other community is archived")
    link_id = new_id()
    fields: Doc = {
        "from_community_id": community_id,
        "to_community_id": other["_id"],
        "share_events": body.share_events,
        "share_resources": body.share_resources,
        "status": "proposed",
        "proposed_by": user.sub,
        "created_at": now(),
        "accepted_at": None,
        "accepted_by": None,
    }
    key = pair_key(community_id, other["_id"])
    draft = {"_id": link_id, **fields}
    written = await ctx.repo.propose_link(
        link_id, key, fields, to_both(ctx, draft, LinkProposed(link=facts(draft), proposed_by=user.sub))
    )
    if written is None:
        raise Conflict("these communities are already linked or a link is proposed")
    await ctx.announce(ctx.repo.links, written)
    return link_view(written)


async def _link_of(ctx: Context, community_id: str, link_id: str) -> Doc:
    link = await ctx.repo.get_link(link_id)
    if (
        link is None
        or link["status"] not in LIVE
        or community_id not in (link["from_community_id"], link["to_community_id"])
    ):
        raise NotFound("no such link")
    return link


async def accept_link(ctx: Context, user: Principal, community_id: str, link_id: str) -> LinkView:
    community, viewer = await ctx.community_for(community_id, user.sub)
    link = await _link_of(ctx, community_id, link_id)
    if link["to_community_id"] != community_id:
        raise Forbidden("the link must be accepted by the community it was proposed to")
    ctx.require_owner(viewer)
    ctx.require_open(community)
    if link["status"] == "active":
        return link_view(link)
    written = await ctx.repo.transition_link(
        link,
        "proposed",
        {"status": "active", "accepted_by": user.sub, "accepted_at": now()},
        to_both(ctx, link, LinkAccepted(link=facts(link), accepted_by=user.sub)),
    )
    if written is None:
        raise Conflict("the link changed meanwhile; try again")
    await ctx.announce(ctx.repo.links, written)
    return link_view(written)


async def remove_link(ctx: Context, user: Principal, community_id: str, link_id: str) -> None:
    _, viewer = await ctx.community_for(community_id, user.sub)
    link = await _link_of(ctx, community_id, link_id)
    ctx.require_owner(viewer)
    written = await ctx.repo.transition_link(
        link,
        link["status"],
        {"status": "removed", "removed_by": user.sub, "removed_at": now()},
        to_both(ctx, link, LinkRemoved(link=facts(link), removed_by=user.sub)),
    )
    await ctx.announce(ctx.repo.links, written)


async def list_links(ctx: Context, user: Principal, community_id: str) -> list[LinkView]:
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_details(community, viewer)
    statuses = LIVE if viewer.is_owner else ["active"]
    return [link_view(link) for link in await ctx.repo.links_of(community_id, statuses=statuses)]
