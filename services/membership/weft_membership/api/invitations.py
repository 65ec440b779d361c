"""Routes: invitations to a community, and accepting one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from weft_membership.api.deps import CommunityId, Ctx, CurrentPerson
from weft_membership.schemas import InvitationAccept, InvitationCreate, InvitationCreated, JoinResult
from weft_membership.usecases import invitations
from weft_membership.usecases.invitations import MAX_TOKEN_LENGTH
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1")


@router.post("/communities/{community_id}/invitations", status_code=status.HTTP_201_CREATED, tags=["invitations"])
async def create_invitation(
    ctx: Ctx, user: CurrentPerson, community_id: CommunityId, body: InvitationCreate
) -> InvitationCreated:
    """Invite by email or user id (owners, facilitators). The token works once, for that person."""
    return await invitations.create_invitation(ctx, user, community_id, body)


@router.post("/invitations/{token}/accept", tags=["invitations"], responses=problem_responses(410))
async def accept_invitation(
    ctx: Ctx,
    user: CurrentPerson,
    token: Annotated[str, Path(min_length=1, max_length=MAX_TOKEN_LENGTH)],
    body: Annotated[InvitationAccept | None, Body()] = None,
) -> JoinResult:
    return await invitations.accept_invitation(ctx, user, token, body or InvitationAccept())
