"""Library items (links and notes): creating, reading, editing and listing a community's library."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit, ResourceId
from weft_resources.schemas import ResourceCreate, ResourcePage, ResourceUpdate, ResourceView
from weft_resources.usecases import resources

KindFilter = Annotated[Literal["file", "link", "note"] | None, Query()]
TagFilter = Annotated[str | None, Query(min_length=1, max_length=40)]
StatusFilter = Annotated[Literal["draft", "published", "archived"], Query()]

router = APIRouter(prefix="/v1", tags=["library"])


@router.post("/communities/{community_id}/resources", status_code=status.HTTP_201_CREATED)
async def create_resource(ctx: Ctx, me: CurrentPerson, community_id: CommunityId, body: ResourceCreate) -> ResourceView:
    """Add a link or a note to the community's library (its active members)."""
    return await resources.create_resource(ctx, me, community_id, body)


@router.get("/communities/{community_id}/resources")
async def list_resources(
    ctx: Ctx,
    me: CurrentPerson,
    community_id: CommunityId,
    kind: KindFilter = None,
    tag: TagFilter = None,
    status: StatusFilter = "published",
    cursor: Cursor = None,
    limit: Limit = 20,
) -> ResourcePage:
    """The community's library, newest first: its own items, partners' items shared through
    links, and items shared with it; only those the caller may see (drafts: their creator and staff)."""
    return await resources.list_library(
        ctx, me, community_id, status=status, kind=kind, tag=tag.lower() if tag else None, cursor=cursor, limit=limit
    )


@router.get("/resources/{resource_id}")
async def get_resource(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> ResourceView:
    """One item; a note with its Markdown and its sanitized HTML."""
    return await resources.get_resource(ctx, me, resource_id)


@router.patch("/resources/{resource_id}")
async def update_resource(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, body: ResourceUpdate) -> ResourceView:
    """Change an item's details (its creator, or the community's owners and facilitators);
    a note's new `text` is a new version."""
    return await resources.update_resource(ctx, me, resource_id, body)
