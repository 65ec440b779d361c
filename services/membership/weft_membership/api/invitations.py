"""Routes: invitations to a community, and accepting one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from weft_membership.api.deps import CommunityId, Ctx, CurrentPerson, ObjectIdPath
from weft_membership.schemas import InvitationAccept, InvitationCreate, InvitationCreated, InvitationPreview, JoinResult
from weft_membership.usecases import invitations
from weft_membership.usecases.invitations import MAX_TOKEN_LENGTH
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1")


@router.post(
    "/communities/{community_id}/invitations",
    status_code=status.HTTP_201_CREATED,
    tags=["invitations"],
    responses=problem_responses(409),
)
async def create_invitation(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: InvitationCreate
) -> InvitationCreated:
    """Invite by email or user id (owners, facilitators). The token works once, for that person.
    Inviting yourself or an active member is a 409."""
    return await invitations.create_invitation(ctx, user, community_id, body)


@router.delete(
    "/communities/{community_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["invitations"],
    responses=problem_responses(409),
)
async def withdraw_invitation(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, invitation_id: ObjectIdPath
) -> None:
    """Withdraw a pending invitation (owners, facilitators): its token then answers 410."""
    await invitations.withdraw_invitation(ctx, user, community_id, invitation_id)


@router.get("/invitations/{token}", tags=["invitations"], responses=problem_responses(410))
async def preview_invitation(
    ctx: Ctx, user: CurrentPerson, token: Annotated[str, Path(min_length=1, max_length=MAX_TOKEN_LENGTH)]
) -> InvitationPreview:
    """The community an invitation is for (its invitee only, while it can be accepted)."""
    return await invitations.preview_invitation(ctx, user, token)


@router.post("/invitations/{token}/accept", tags=["invitations"], responses=problem_responses(410))
async def accept_invitation(
    ctx: Ctx,
    user: CurrentPerson,
    token: Annotated[str, Path(min_length=1, max_length=MAX_TOKEN_LENGTH)],
    body: Annotated[InvitationAccept | None, Body()] = None,
) -> JoinResult:
    return await invitations.accept_invitation(ctx, user, token, body or InvitationAccept())
