"""Routes: communities and their codes of conduct."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from weft_membership.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit
from weft_membership.schemas import (
    CodeOfConductAccept,
    CodeOfConductPublish,
    CodeOfConductView,
    CommunityCreate,
    CommunityUpdate,
    CommunityView,
)
from weft_membership.usecases import communities, members
from weft_shared.errors import problem_responses
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1")


@router.post(
    "/communities", status_code=status.HTTP_201_CREATED, tags=["communities"], responses=problem_responses(409)
)
async def create_community(ctx: Ctx, user: CurrentPerson, body: CommunityCreate) -> CommunityView:
    """Create a community; the caller becomes its owner."""
    return await communities.create_community(ctx, user, body)


@router.get("/communities", tags=["communities"])
async def list_communities(
    ctx: Ctx,
    user: CurrentPerson,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[CommunityView]:
    """The directory: every community the caller may see, by slug."""
    return await communities.directory(ctx, user, q=q, tag=tag, cursor=cursor, limit=limit)


@router.get("/communities/{community_id}", tags=["communities"])
async def get_community(ctx: Ctx, user: CurrentPerson, community_id: CommunityId) -> CommunityView:
    return await communities.get_community(ctx, user, community_id)


@router.patch("/communities/{community_id}", tags=["communities"])
async def update_community(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: CommunityUpdate
) -> CommunityView:
    """Change details (owners and facilitators)."""
    return await communities.update_community(ctx, user, community_id, body)


@router.post("/communities/{community_id}/archive", tags=["communities"])
async def archive_community(ctx: Ctx, user: CurrentPerson, community_id: CommunityId) -> CommunityView:
    """Archive (owners): the community becomes read-only."""
    return await communities.archive_community(ctx, user, community_id)


@router.put("/communities/{community_id}/code-of-conduct", tags=["code of conduct"])
async def publish_code_of_conduct(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: CodeOfConductPublish
) -> CodeOfConductView:
    """Publish a new version; members accept it with POST …/code-of-conduct/accept."""
    return await communities.publish_code_of_conduct(ctx, user, community_id, body)


@router.post(
    "/communities/{community_id}/code-of-conduct/accept",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["code of conduct"],
)
async def accept_code_of_conduct(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: CodeOfConductAccept
) -> None:
    await members.accept_code_of_conduct(ctx, user, community_id, body.version)
