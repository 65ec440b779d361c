"""Invitations: single-use, expiring tokens bound to one invitee."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from weft_membership.domain import MemberStatus, Role, role_in
from weft_membership.schemas import InvitationAccept, InvitationCreate, InvitationCreated, JoinResult
from weft_membership.usecases.context import Context
from weft_membership.usecases.members import joined_message, require_conduct_accepted
from weft_shared.auth import Principal
from weft_shared.contracts.membership import InvitationAccepted
from weft_shared.contracts.membership import InvitationCreated as InvitationCreatedMessage
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id


def hash_token(token: str) -> str:
    # Only the hash is stored: a database leak does not leak usable invitations.
    return hashlib.sha256(token.encode()).hexdigest()


def accept_path(token: str) -> str:
    return f"/v1/invitations/{token}/accept"


async def create_invitation(
    ctx: Context, user: Principal, community_id: str, body: InvitationCreate
) -> InvitationCreated:
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_staff(viewer)
    ctx.require_open(community)
    token = secrets.token_urlsafe(32)
    invitation_id = new_id()
    expires_at = now() + timedelta(days=body.expires_in_days)
    email = body.email.lower() if body.email else None
    message = InvitationCreatedMessage(
        community_id=community_id,
        community_name=community["name"],
        invitation_id=invitation_id,
        invited_email=email,
        invited_user_id=body.user_id,
        invited_by=user.sub,
        expires_at=expires_at,
        accept_path=accept_path(token),
    )
    doc = await ctx.repo.insert_invitation(
        {
            "_id": invitation_id,
            "token_hash": hash_token(token),
            "community_id": community_id,
            "invited_email": email,
            "invited_user_id": body.user_id,
            "invited_by": user.sub,
            "created_at": now(),
            "expires_at": expires_at,
            "status": "pending",
        },
        [ctx.message(message, community_id)],
    )
    await ctx.announce(ctx.repo.invitations, doc)
    return InvitationCreated(id=invitation_id, token=token, accept_path=accept_path(token), expires_at=expires_at)


def _is_invitee(invitation: dict[str, object], user: Principal) -> bool:
    if invitation.get("invited_user_id"):
        return invitation["invited_user_id"] == user.sub
    return bool(user.email) and invitation.get("invited_email") == (user.email or "").lower()


async def accept_invitation(ctx: Context, user: Principal, token: str, body: InvitationAccept) -> JoinResult:
    if len(token) > 200:
        raise NotFound("no such invitation")
    invitation = await ctx.repo.get_invitation_by_hash(hash_token(token))
    if invitation is None:
        raise NotFound("no such invitation")
    if not _is_invitee(invitation, user):
        raise Forbidden("this invitation is for someone else")
    community_id = invitation["community_id"]
    community = await ctx.repo.get_community(community_id)
    if community is None:
        raise NotFound("no such invitation")
    ctx.require_open(community)
    membership = await ctx.repo.get_membership(community_id, user.sub)
    status = MemberStatus(membership["status"]) if membership else None
    if status is MemberStatus.BANNED:
        raise Forbidden("you have been removed from this community and cannot rejoin")
    # Claim first (single use), then join. A retry by the same invitee after a
    # crash between the two finds the claim theirs and finishes the join.
    finished_before = membership is not None and membership.get("invitation_id") == invitation["_id"]
    if invitation["status"] == "accepted" and invitation.get("accepted_by") == user.sub and not finished_before:
        pass  # claimed by this person, but the join never happened (a crash): finish it
    elif invitation["status"] == "accepted" and finished_before and status is MemberStatus.ACTIVE:
        return JoinResult(status=MemberStatus.ACTIVE, role=role_in(community, user.sub))
    elif invitation["status"] != "pending":
        raise Problem("this invitation has already been used or withdrawn", status=410)
    elif invitation["expires_at"] <= now():
        raise Problem("this invitation has expired; ask for a new one", status=410)
    if status is MemberStatus.ACTIVE:
        return JoinResult(status=MemberStatus.ACTIVE, role=role_in(community, user.sub))
    accepted = require_conduct_accepted(community, body.accept_code_of_conduct_version)
    if invitation["status"] == "pending":
        claimed = await ctx.repo.claim_invitation(
            invitation["_id"],
            user.sub,
            [
                ctx.message(
                    InvitationAccepted(community_id=community_id, invitation_id=invitation["_id"], user_id=user.sub),
                    community_id,
                )
            ],
        )
        if claimed is None:
            raise Problem("this invitation has already been used or has expired", status=410)
        await ctx.announce(ctx.repo.invitations, claimed)
    fields = {
        "status": MemberStatus.ACTIVE.value,
        "via": "invitation",
        "invitation_id": invitation["_id"],
        "joined_at": now(),
        **accepted,
    }
    written = await ctx.repo.enter(community_id, user.sub, fields, [joined_message(ctx, community, user, "invitation")])
    if written is None:
        # Pending request: the invitation supersedes it.
        written = await ctx.repo.transition(
            community_id,
            user.sub,
            expected={"status": MemberStatus.PENDING.value},
            update={"$set": fields},
            entries=[joined_message(ctx, community, user, "invitation")],
        )
    await ctx.announce(ctx.repo.memberships, written)
    return JoinResult(status=MemberStatus.ACTIVE, role=Role.MEMBER)
