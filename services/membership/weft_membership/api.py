"""Thin HTTP routes: parse, call a use case, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status

from weft_membership.domain import Role
from weft_membership.schemas import (
    CodeOfConductAccept,
    CodeOfConductPublish,
    CodeOfConductView,
    CommunityCreate,
    CommunityUpdate,
    CommunityView,
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    JoinBody,
    JoinRequestView,
    JoinResult,
    LinkPropose,
    LinkView,
    Me,
    MemberView,
    Profile,
    ProfileUpdate,
    RoleChange,
)
from weft_membership.usecases import communities, invitations, links, members, people
from weft_membership.usecases.context import Context
from weft_shared.auth import Principal, current_principal
from weft_shared.service.models import Page


async def known_caller(request: Request, principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Verify the token, and create the person on first sight from its claims."""
    seen: dict[tuple[str, str | None, str | None], bool] = request.app.state.seen_users
    key = (principal.sub, principal.email, principal.name)
    if key not in seen:
        await request.app.state.ctx.repo.ensure_user(principal.sub, principal.email, principal.name)
        if len(seen) > 50_000:
            seen.clear()
        seen[key] = True
    return principal


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Caller = Annotated[Principal, Depends(known_caller)]
Ctx = Annotated[Context, Depends(context)]
CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
UserIdPath = Annotated[str, Path(min_length=1, max_length=200)]
ObjectIdPath = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]

router = APIRouter(prefix="/v1")


@router.post("/communities", status_code=status.HTTP_201_CREATED, tags=["communities"])
async def create_community(ctx: Ctx, user: Caller, body: CommunityCreate) -> CommunityView:
    """Create a community; the caller becomes its owner."""
    return await communities.create_community(ctx, user, body)


@router.get("/communities", tags=["communities"])
async def list_communities(
    ctx: Ctx,
    user: Caller,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[CommunityView]:
    """The directory: every community the caller may see, by slug."""
    return await communities.directory(ctx, user, q=q, tag=tag, cursor=cursor, limit=limit)


@router.get("/communities/{community_id}", tags=["communities"])
async def get_community(ctx: Ctx, user: Caller, community_id: CommunityId) -> CommunityView:
    return await communities.get_community(ctx, user, community_id)


@router.patch("/communities/{community_id}", tags=["communities"])
async def update_community(ctx: Ctx, user: Caller, community_id: CommunityId, body: CommunityUpdate) -> CommunityView:
    """Change details (owners and facilitators)."""
    return await communities.update_community(ctx, user, community_id, body)


@router.post("/communities/{community_id}/archive", tags=["communities"])
async def archive_community(ctx: Ctx, user: Caller, community_id: CommunityId) -> CommunityView:
    """Archive (owners): the community becomes read-only."""
    return await communities.archive_community(ctx, user, community_id)


@router.put("/communities/{community_id}/code-of-conduct", tags=["code of conduct"])
async def publish_code_of_conduct(
    ctx: Ctx, user: Caller, community_id: CommunityId, body: CodeOfConductPublish
) -> CodeOfConductView:
    """Publish a new version; members accept it with POST …/code-of-conduct/accept."""
    return await communities.publish_code_of_conduct(ctx, user, community_id, body)


@router.post(
    "/communities/{community_id}/code-of-conduct/accept",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["code of conduct"],
)
async def accept_code_of_conduct(ctx: Ctx, user: Caller, community_id: CommunityId, body: CodeOfConductAccept) -> None:
    await members.accept_code_of_conduct(ctx, user, community_id, body.version)


@router.post(
    "/communities/{community_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already a member"}, 202: {"description": "join request pending approval"}},
    tags=["members"],
)
async def join_community(
    ctx: Ctx,
    user: Caller,
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
    user: Caller,
    community_id: CommunityId,
    role: Role | None = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[MemberView]:
    return await members.list_members(ctx, user, community_id, role=role, cursor=cursor, limit=limit)


@router.patch("/communities/{community_id}/members/{user_id}", tags=["members"])
async def change_role(
    ctx: Ctx, user: Caller, community_id: CommunityId, user_id: UserIdPath, body: RoleChange
) -> MemberView:
    """Change a member's role (owners). A community always keeps at least one owner."""
    return await members.change_role(ctx, user, community_id, user_id, body.role)


@router.delete(
    "/communities/{community_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["members"]
)
async def remove_member(
    ctx: Ctx, user: Caller, community_id: CommunityId, user_id: UserIdPath, ban: bool = False
) -> None:
    """Leave (your own id) or remove someone (owners, facilitators); `ban=true` blocks rejoining."""
    await members.remove_member(ctx, user, community_id, user_id, ban=ban)


@router.get("/communities/{community_id}/requests", tags=["join requests"])
async def list_requests(
    ctx: Ctx, user: Caller, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 50
) -> Page[JoinRequestView]:
    return await members.list_requests(ctx, user, community_id, cursor=cursor, limit=limit)


@router.post("/communities/{community_id}/requests/{request_id}/approve", tags=["join requests"])
async def approve_request(ctx: Ctx, user: Caller, community_id: CommunityId, request_id: ObjectIdPath) -> JoinResult:
    return await members.decide_request(ctx, user, community_id, request_id, approve=True)


@router.post("/communities/{community_id}/requests/{request_id}/decline", tags=["join requests"])
async def decline_request(ctx: Ctx, user: Caller, community_id: CommunityId, request_id: ObjectIdPath) -> JoinResult:
    return await members.decide_request(ctx, user, community_id, request_id, approve=False)


@router.post("/communities/{community_id}/invitations", status_code=status.HTTP_201_CREATED, tags=["invitations"])
async def create_invitation(
    ctx: Ctx, user: Caller, community_id: CommunityId, body: InvitationCreate
) -> InvitationCreated:
    """Invite by email or user id (owners, facilitators). The token works once, for that person."""
    return await invitations.create_invitation(ctx, user, community_id, body)


@router.post("/invitations/{token}/accept", tags=["invitations"])
async def accept_invitation(
    ctx: Ctx,
    user: Caller,
    token: Annotated[str, Path(min_length=1, max_length=200)],
    body: Annotated[InvitationAccept | None, Body()] = None,
) -> JoinResult:
    return await invitations.accept_invitation(ctx, user, token, body or InvitationAccept())


@router.post("/communities/{community_id}/links", status_code=status.HTTP_201_CREATED, tags=["links"])
async def propose_link(ctx: Ctx, user: Caller, community_id: CommunityId, body: LinkPropose) -> LinkView:
    """Propose a peer link to another community (owners); its owners accept it."""
    return await links.propose_link(ctx, user, community_id, body)


@router.get("/communities/{community_id}/links", tags=["links"])
async def list_links(ctx: Ctx, user: Caller, community_id: CommunityId) -> list[LinkView]:
    return await links.list_links(ctx, user, community_id)


@router.post("/communities/{community_id}/links/{link_id}/accept", tags=["links"])
async def accept_link(ctx: Ctx, user: Caller, community_id: CommunityId, link_id: ObjectIdPath) -> LinkView:
    return await links.accept_link(ctx, user, community_id, link_id)


@router.delete("/communities/{community_id}/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["links"])
async def remove_link(ctx: Ctx, user: Caller, community_id: CommunityId, link_id: ObjectIdPath) -> None:
    await links.remove_link(ctx, user, community_id, link_id)


@router.get("/me", tags=["people"])
async def get_me(ctx: Ctx, user: Caller) -> Me:
    """Your profile and your communities."""
    return await people.me(ctx, user)


@router.put("/me/profile", tags=["people"])
async def put_profile(ctx: Ctx, user: Caller, body: ProfileUpdate) -> Profile:
    return await people.update_profile(ctx, user, body)


@router.get("/people", tags=["people"])
async def list_people(
    ctx: Ctx,
    user: Caller,
    expertise: Annotated[str | None, Query(max_length=60)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[Profile]:
    """The expertise directory: people the caller may see across communities."""
    return await people.people(ctx, user, expertise=expertise, q=q, cursor=cursor, limit=limit)
