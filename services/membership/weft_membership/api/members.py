"""Routes: members of a community, and its join requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from weft_membership.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit, ObjectIdPath, UserIdPath
from weft_membership.domain.roles import Role
from weft_membership.schemas import JoinBody, JoinRequestView, JoinResult, MemberView, RoleChange
from weft_membership.usecases import join_requests, members
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1")


@router.post(
    "/communities/{community_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already a member"}, 202: {"description": "join request pending approval"}},
    tags=["members"],
)
async def join_community(
    ctx: Ctx,
    user: CurrentPerson,
    community_id: CommunityId,
    response: Response,
    body: Annotated[JoinBody | None, Body()] = None,
) -> JoinResult:
    """Join: open → 201 active; approval → 202 pending with a request id; invite-only → 403."""
    result, created = await members.join(ctx, user, community_id, body or JoinBody())
    if result.status == "pending":
        response.status_code = status.HTTP_202_ACCEPTED
    elif not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/communities/{community_id}/members", tags=["members"])
async def list_members(
    ctx: Ctx,
    user: CurrentPerson,
    community_id: CommunityId,
    role: Role | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[MemberView]:
    return await members.list_members(ctx, user, community_id, role=role, cursor=cursor, limit=limit)


@router.patch("/communities/{community_id}/members/{user_id}", tags=["members"])
async def change_role(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, user_id: UserIdPath, body: RoleChange
) -> MemberView:
    """Change a member's role (owners). A community always keeps at least one owner."""
    return await members.change_role(ctx, user, community_id, user_id, body.role)


@router.delete(
    "/communities/{community_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["members"]
)
async def remove_member(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, user_id: UserIdPath, ban: bool = False
) -> None:
    """Leave (your own id) or remove someone (owners, facilitators); `ban=true` blocks rejoining."""
    await members.remove_member(ctx, user, community_id, user_id, ban=ban)


@router.get("/communities/{community_id}/requests", tags=["join requests"])
async def list_requests(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 50
) -> Page[JoinRequestView]:
    return await join_requests.list_requests(ctx, user, community_id, cursor=cursor, limit=limit)


@router.post("/communities/{community_id}/requests/{request_id}/approve", tags=["join requests"])
async def approve_request(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, request_id: ObjectIdPath
) -> JoinResult:
    return await join_requests.decide_request(ctx, user, community_id, request_id, approve=True)


@router.post("/communities/{community_id}/requests/{request_id}/decline", tags=["join requests"])
async def decline_request(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, request_id: ObjectIdPath
) -> JoinResult:
    return await join_requests.decide_request(ctx, user, community_id, request_id, approve=False)
