"""Routes: peer links between communities."""

from __future__ import annotations

from fastapi import APIRouter, status

from weft_membership.api.deps import CommunityId, Ctx, CurrentPerson, ObjectIdPath
from weft_membership.schemas import LinkPropose, LinkView
from weft_membership.usecases import links

router = APIRouter(prefix="/v1")


@router.post("/communities/{community_id}/links", status_code=status.HTTP_201_CREATED, tags=["links"])
async def propose_link(ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: LinkPropose) -> LinkView:
    """Propose a peer link to another community (owners); its owners accept it."""
    return await links.propose_link(ctx, user, community_id, body)


@router.get("/communities/{community_id}/links", tags=["links"])
async def list_links(ctx: Ctx, user: CurrentPerson, community_id: CommunityId) -> list[LinkView]:
    return await links.list_links(ctx, user, community_id)


@router.post("/communities/{community_id}/links/{link_id}/accept", tags=["links"])
async def accept_link(ctx: Ctx, user: CurrentPerson, community_id: CommunityId, link_id: ObjectIdPath) -> LinkView:
    return await links.accept_link(ctx, user, community_id, link_id)


@router.delete("/communities/{community_id}/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["links"])
async def remove_link(ctx: Ctx, user: CurrentPerson, community_id: CommunityId, link_id: ObjectIdPath) -> None:
    await links.remove_link(ctx, user, community_id, link_id)
