"""Sharing a library item with a linked community."""

from __future__ import annotations

from fastapi import APIRouter, status

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, ResourceId
from weft_resources.schemas import ResourceView
from weft_resources.usecases import sharing

router = APIRouter(prefix="/v1", tags=["library"])


@router.put("/resources/{resource_id}/shares/{community_id}")
async def share_resource(
    ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, community_id: CommunityId
) -> ResourceView:
    """Share the item with a community linked with its own to share resources (owners, facilitators)."""
    return await sharing.share_resource(ctx, me, resource_id, community_id)


@router.delete("/resources/{resource_id}/shares/{community_id}", status_code=status.HTTP_204_NO_CONTENT)
async def unshare_resource(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, community_id: CommunityId) -> None:
    await sharing.unshare_resource(ctx, me, resource_id, community_id)
