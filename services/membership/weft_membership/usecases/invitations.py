"""Invitations: single-use, expiring tokens bound to one invitee."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from weft_membership.domain.access import member_viewer, require_open, require_staff
from weft_membership.domain.membership import MemberStatus, conduct_acceptance, status_of
from weft_membership.domain.roles import Role
from weft_membership.messages import member_joined
from weft_membership.schemas import (
    CodeOfConductView,
    InvitationAccept,
    InvitationCreate,
    InvitationCreated,
    InvitationPreview,
    JoinResult,
)
from weft_membership.storage.documents import Doc
from weft_membership.storage.invitations import Invitations
from weft_membership.usecases.context import Context, announce_membership
from weft_shared.contracts.membership import InvitationAccepted, InvitationWithdrawn
from weft_shared.contracts.membership import InvitationCreated as InvitationCreatedMessage
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

MAX_TOKEN_LENGTH = 200


def hash_token(token: str) -> str:
    # Only the hash is stored: a database leak does not leak usable invitations.
    return hashlib.sha256(token.encode()).hexdigest()


def accept_path(token: str) -> str:
    return f"/v1/invitations/{token}/accept"


async def create_invitation(
    ctx: Context, actor: Person, community_id: str, body: InvitationCreate
) -> InvitationCreated:
    async def work(tx: Transaction) -> InvitationCreated:
        access = await ctx.access(community_id, actor)
        require_staff(access.viewer)
        require_open(access.community)
        await _refuse_existing_member(ctx, actor, community_id, body)
        token = secrets.token_urlsafe(32)
        invitation_id = new_id()
        expires_at = now() + timedelta(days=body.expires_in_days)
        email = body.email.lower() if body.email else None
        await ctx.store.invitations.insert(
            {
                "_id": invitation_id,
                "token_hash": hash_token(token),
                "community_id": community_id,
                "invited_email": email,
                "invited_user_id": body.user_id,
                "invited_by": actor.id,
                "created_at": now(),
                "expires_at": expires_at,
                "status": "pending",
            }
        )
        created = InvitationCreatedMessage(
            community_id=community_id,
            community_name=access.community["name"],
            invitation_id=invitation_id,
            invited_email=email,
            invited_user_id=body.user_id,
            invited_by=actor.id,
            expires_at=expires_at,
            accept_path=accept_path(token),
        )
        tx.announce(created, aggregate=Invitations.aggregate(invitation_id), community_id=community_id)
        return InvitationCreated(id=invitation_id, token=token, accept_path=accept_path(token), expires_at=expires_at)

    return await ctx.uow.run(work)


async def _refuse_existing_member(ctx: Context, actor: Person, community_id: str, body: InvitationCreate) -> None:
    """An invitation for the inviter or for an active member could only be a mistake.
    (By email, only the inviter's own address is known: people are not looked up by email.)"""
    field, invitee = ("user_id", body.user_id) if body.user_id else ("email", body.email)
    own_email = (actor.principal.email or "").lower()
    if body.user_id == actor.id or (body.email is not None and body.email.lower() == own_email):
        raise Conflict(f"you cannot invite yourself ({invitee})", errors=[{"field": field, "message": "yourself"}])
    if body.user_id and status_of(await ctx.store.memberships.get(community_id, body.user_id)) is MemberStatus.ACTIVE:
        raise Conflict(
            f"{body.user_id} is already a member of this community",
            errors=[{"field": "user_id", "message": "already a member"}],
        )


async def withdraw_invitation(ctx: Context, actor: Person, community_id: str, invitation_id: str) -> None:
    """Staff withdraw a pending invitation: its token then answers 410. Withdrawing
    twice is a no-op; an accepted one stays spent (it is history, not a pending offer)."""

    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        require_staff(access.viewer)
        invitation = await ctx.store.invitations.get(invitation_id)
        if invitation is None or invitation["community_id"] != community_id:
            raise NotFound("no such invitation")
        if invitation["status"] == "withdrawn":
            return
        if invitation["status"] != "pending":
            raise Conflict(f"this invitation was already {invitation['status']}")
        await ctx.store.invitations.mark_withdrawn(invitation_id, actor.id)
        withdrawn = InvitationWithdrawn(community_id=community_id, invitation_id=invitation_id, withdrawn_by=actor.id)
        tx.announce(withdrawn, aggregate=Invitations.aggregate(invitation_id), community_id=community_id)

    await ctx.uow.run(work)


def _is_invitee(invitation: Doc, actor: Person) -> bool:
    if invitation.get("invited_user_id"):
        return bool(invitation["invited_user_id"] == actor.id)
    email = actor.principal.email
    return bool(email) and invitation.get("invited_email") == (email or "").lower()


async def preview_invitation(ctx: Context, actor: Person, token: str) -> InvitationPreview:
    """The community an invitation is for, for its invitee only, while it can still be accepted.

    Refused like accepting would be (404 unknown, 403 someone else's, 410 spent or expired), so
    looking first tells no one more than trying would.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("no such invitation")
    invitation = await ctx.store.invitations.by_token_hash(hash_token(token))
    if invitation is None:
        raise NotFound("no such invitation")
    if not _is_invitee(invitation, actor):
        raise Forbidden("this invitation is for someone else")
    community = await ctx.store.communities.get(invitation["community_id"])
    if community is None:
        raise NotFound("no such invitation")
    if status_of(await ctx.store.memberships.get(community["_id"], actor.id)) is MemberStatus.BANNED:
        raise Forbidden("you have been removed from this community and cannot rejoin")
    if invitation["status"] != "pending":
        raise Problem("this invitation has already been used or withdrawn", status=410)
    if invitation["expires_at"] <= now():
        raise Problem("this invitation has expired; ask for a new one", status=410)
    conduct = community.get("code_of_conduct")
    return InvitationPreview(
        community_id=community["_id"],
        community_name=community["name"],
        purpose=community.get("purpose", ""),
        code_of_conduct=CodeOfConductView(**conduct) if conduct else None,
        expires_at=invitation["expires_at"],
    )


async def accept_invitation(ctx: Context, actor: Person, token: str, body: InvitationAccept) -> JoinResult:
    """Spend the invitation and make the invitee an active member, in one transaction."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise NotFound("no such invitation")

    async def work(tx: Transaction) -> JoinResult:
        invitation = await ctx.store.invitations.by_token_hash(hash_token(token))
        if invitation is None:
            raise NotFound("no such invitation")
        if not _is_invitee(invitation, actor):
            raise Forbidden("this invitation is for someone else")
        community_id = invitation["community_id"]
        community = await ctx.store.communities.get(community_id)
        if community is None:
            raise NotFound("no such invitation")
        require_open(community)
        membership = await ctx.store.memberships.get(community_id, actor.id)
        before = status_of(membership)
        if before is MemberStatus.BANNED:
            raise Forbidden("you have been removed from this community and cannot rejoin")
        active_result = JoinResult(status=MemberStatus.ACTIVE, role=member_viewer(community, actor.id).role)
        spent_by_this_membership = membership is not None and membership.get("invitation_id") == invitation["_id"]
        if invitation["status"] == "accepted" and before is MemberStatus.ACTIVE and spent_by_this_membership:
            return active_result  # accepting again: the same answer
        if invitation["status"] != "pending":
            raise Problem("this invitation has already been used or withdrawn", status=410)
        if invitation["expires_at"] <= now():
            raise Problem("this invitation has expired; ask for a new one", status=410)
        if before is MemberStatus.ACTIVE:
            return active_result
        accepted = conduct_acceptance(community, body.accept_code_of_conduct_version)
        await ctx.store.invitations.mark_accepted(invitation["_id"], actor.id)
        fields = {
            "status": MemberStatus.ACTIVE.value,
            "via": "invitation",
            "invitation_id": invitation["_id"],
            "joined_at": now(),
            **accepted,
        }
        # A pending join request is superseded by the invitation.
        await ctx.store.memberships.put(community_id, actor.id, fields, before=before)
        spent = InvitationAccepted(community_id=community_id, invitation_id=invitation["_id"], user_id=actor.id)
        tx.announce(spent, aggregate=Invitations.aggregate(invitation["_id"]), community_id=community_id)
        joined = member_joined(community, actor.id, actor.principal.name, via="invitation")
        announce_membership(tx, joined, community_id, actor.id)
        return JoinResult(status=MemberStatus.ACTIVE, role=Role.MEMBER)

    return await ctx.uow.run(work)
