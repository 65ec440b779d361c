"""Joining, leaving, removal, roles, the approval queue and code-of-conduct acceptance."""

from __future__ import annotations

from weft_membership.domain import (
    JoinPolicy,
    MemberStatus,
    Role,
    Viewer,
    role_in,
    staff_after_role_change,
)
from weft_membership.repository import Doc
from weft_membership.schemas import JoinBody, JoinRequestView, JoinResult, MemberView
from weft_membership.usecases.context import Context
from weft_shared.auth import Principal
from weft_shared.contracts.membership import (
    CodeOfConductAccepted,
    JoinApproved,
    JoinDeclined,
    JoinedVia,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
)
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Outgoing


def require_conduct_accepted(community: Doc, accepted_version: int | None) -> dict[str, int]:
    """Joining requires accepting the current code of conduct, when there is one."""
    coc = community.get("code_of_conduct")
    if not coc:
        return {}
    if accepted_version != coc["version"]:
        raise Problem(
            f"this community has a code of conduct (version {coc['version']}); "
            "read it and send accept_code_of_conduct_version with that number",
            status=422,
            errors=[{"field": "accept_code_of_conduct_version", "message": f"must be {coc['version']}"}],
        )
    return {"coc_version_accepted": coc["version"]}


def joined_message(ctx: Context, community: Doc, user: Principal, via: JoinedVia) -> Outgoing:
    return ctx.message(
        MemberJoined(
            community_id=community["_id"],
            user_id=user.sub,
            role=Role.MEMBER.value,
            via=via,
            display_name=user.name,
            community_visibility=community["visibility"],
        ),
        community["_id"],
    )


def _existing_result(membership: Doc | None, community: Doc, user_id: str) -> JoinResult:
    """What a repeated join returns: the standing the caller already has."""
    if membership is None:
        raise Conflict("membership changed while joining; try again")
    status = MemberStatus(membership["status"])
    if status is MemberStatus.BANNED:
        raise Forbidden("you have been removed from this community and cannot rejoin")
    if status is MemberStatus.PENDING:
        return JoinResult(status=status, request_id=membership["request"]["id"])
    if status is MemberStatus.ACTIVE:
        return JoinResult(status=status, role=role_in(community, user_id))
    raise Conflict("membership changed while joining; try again")


async def join(ctx: Context, user: Principal, community_id: str, body: JoinBody) -> tuple[JoinResult, bool]:
    """Returns (result, created): created is False when nothing changed (a repeat)."""
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_open(community)
    if viewer.status in (MemberStatus.ACTIVE, MemberStatus.PENDING, MemberStatus.BANNED):
        return _existing_result(await ctx.repo.get_membership(community_id, user.sub), community, user.sub), False
    policy = JoinPolicy(community["join_policy"])
    if policy is JoinPolicy.INVITE:
        raise Forbidden("this community is invite-only; ask an owner or facilitator for an invitation")
    accepted = require_conduct_accepted(community, body.accept_code_of_conduct_version)
    if policy is JoinPolicy.OPEN:
        fields = {"status": MemberStatus.ACTIVE.value, "via": "open", "joined_at": now(), **accepted}
        entries = [joined_message(ctx, community, user, "open")]
    else:
        request_id = new_id()
        fields = {
            "status": MemberStatus.PENDING.value,
            "request": {"id": request_id, "message": body.message, "requested_at": now()},
            **accepted,
        }
        entries = [
            ctx.message(
                JoinRequested(
                    community_id=community_id,
                    request_id=request_id,
                    user_id=user.sub,
                    display_name=user.name,
                    message=body.message,
                ),
                community_id,
            )
        ]
    written = await ctx.repo.enter(community_id, user.sub, fields, entries)
    if written is None:  # a concurrent join by the same person won
        return _existing_result(await ctx.repo.get_membership(community_id, user.sub), community, user.sub), False
    await ctx.announce(ctx.repo.memberships, written)
    if policy is JoinPolicy.OPEN:
        return JoinResult(status=MemberStatus.ACTIVE, role=Role.MEMBER), True
    return JoinResult(status=MemberStatus.PENDING, request_id=written["request"]["id"]), True


async def list_members(
    ctx: Context, user: Principal, community_id: str, *, role: Role | None, cursor: str | None, limit: int
) -> Page[MemberView]:
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_details(community, viewer)
    after = decode_cursor(cursor, {"user_id": str})
    staff = [*community.get("owners", []), *community.get("facilitators", [])]
    only: list[str] | None = None
    exclude: list[str] = []
    if role is Role.OWNER:
        only = list(community.get("owners", []))
    elif role is Role.FACILITATOR:
        only = list(community.get("facilitators", []))
    elif role is Role.MEMBER:
        exclude = staff
    docs = await ctx.repo.members_page(
        community_id, only=only, exclude=exclude, after_user=after["user_id"] if after else None, limit=limit + 1
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["user_id"]})
    names = await ctx.repo.users_by_ids([d["user_id"] for d in docs])
    items = [
        MemberView(
            user_id=d["user_id"],
            display_name=names.get(d["user_id"], {}).get("display_name"),
            role=role_in(community, d["user_id"]),
            joined_at=d.get("joined_at"),
        )
        for d in docs
    ]
    return Page[MemberView](items=items, next_cursor=next_cursor)


async def change_role(ctx: Context, user: Principal, community_id: str, target: str, new_role: Role) -> MemberView:
    async def plan(community: Doc, viewer: Viewer) -> tuple[Doc, list[Outgoing]] | None:
        ctx.require_owner(viewer)
        ctx.require_open(community)
        membership = await ctx.repo.get_membership(community_id, target)
        if membership is None or membership["status"] != MemberStatus.ACTIVE.value:
            raise NotFound("no such member")
        old_role = role_in(community, target)
        if old_role is new_role:
            return None
        owners, facilitators = staff_after_role_change(community, target, new_role)
        if not owners:
            raise Conflict("a community must keep at least one owner; make someone else owner first")
        entry = ctx.message(
            MemberRoleChanged(
                community_id=community_id,
                user_id=target,
                old_role=old_role.value,
                new_role=new_role.value,
                changed_by=user.sub,
            ),
            community_id,
        )
        return {"$set": {"owners": owners, "facilitators": facilitators}}, [entry]

    written = await ctx.mutate_community(community_id, user.sub, plan)
    membership = await ctx.repo.get_membership(community_id, target) or {}
    names = await ctx.repo.users_by_ids([target])
    return MemberView(
        user_id=target,
        display_name=names.get(target, {}).get("display_name"),
        role=role_in(written, target),
        joined_at=membership.get("joined_at"),
    )


async def remove_member(ctx: Context, user: Principal, community_id: str, target: str, *, ban: bool) -> None:
    """Leave (self) or remove (staff). Staff roles are dropped first with the
    last-owner guard; then the membership ends, announcing it in the same write."""
    community, viewer = await ctx.community_for(community_id, user.sub)
    leaving = target == user.sub
    if leaving:
        if not viewer.is_member:
            raise NotFound("you are not a member of this community")
        if ban:
            raise Problem("you cannot ban yourself", status=400, errors=[{"field": "ban", "message": "not for self"}])
    else:
        ctx.require_details(community, viewer)
        ctx.require_staff(viewer)
    membership = await ctx.repo.get_membership(community_id, target)
    status = MemberStatus(membership["status"]) if membership else None
    if status is not MemberStatus.ACTIVE:
        if not ban:
            raise NotFound("no such member")
        if status is not MemberStatus.BANNED:  # banning twice changes nothing
            await _ban_non_member(ctx, community_id, target, user)
        return
    target_role = role_in(community, target)
    if not leaving and target_role is not Role.MEMBER and not viewer.is_owner:
        raise Forbidden("only owners can remove owners or facilitators")
    if target_role is not Role.MEMBER:
        await _drop_staff_role(ctx, community_id, user.sub, target)
    new_status = MemberStatus.BANNED if ban else (MemberStatus.LEFT if leaving else MemberStatus.REMOVED)
    payload = (
        MemberLeft(community_id=community_id, user_id=target, role=target_role.value)
        if leaving
        else MemberRemoved(
            community_id=community_id, user_id=target, role=target_role.value, removed_by=user.sub, banned=ban
        )
    )
    written = await ctx.repo.transition(
        community_id,
        target,
        expected={"status": MemberStatus.ACTIVE.value},
        update={"$set": {"status": new_status.value, "ended_at": now(), "ended_by": user.sub}},
        entries=[ctx.message(payload, community_id)],
    )
    await ctx.announce(ctx.repo.memberships, written)


async def _drop_staff_role(ctx: Context, community_id: str, actor: str, target: str) -> None:
    async def plan(community: Doc, viewer: Viewer) -> tuple[Doc, list[Outgoing]] | None:
        owners, facilitators = staff_after_role_change(community, target, Role.MEMBER)
        if not owners:
            raise Conflict("the last owner cannot leave; make someone else owner first")
        if owners == community.get("owners") and facilitators == community.get("facilitators"):
            return None
        # Announced by the member.left / member.removed message that follows.
        return {"$set": {"owners": owners, "facilitators": facilitators}}, []

    await ctx.mutate_community(community_id, actor, plan)


async def _ban_non_member(ctx: Context, community_id: str, target: str, actor: Principal) -> None:
    """Banning someone who is not (or no longer) a member, so they cannot join."""
    payload = MemberRemoved(
        community_id=community_id, user_id=target, role=Role.MEMBER.value, removed_by=actor.sub, banned=True
    )
    written = await ctx.repo.enter(
        community_id,
        target,
        {"status": MemberStatus.BANNED.value, "ended_at": now(), "ended_by": actor.sub},
        [ctx.message(payload, community_id)],
    )
    if written is None:  # pending request: decline it as banned
        written = await ctx.repo.transition(
            community_id,
            target,
            expected={"status": MemberStatus.PENDING.value},
            update={"$set": {"status": MemberStatus.BANNED.value, "ended_at": now(), "ended_by": actor.sub}},
            entries=[ctx.message(payload, community_id)],
        )
    await ctx.announce(ctx.repo.memberships, written)


async def list_requests(
    ctx: Context, user: Principal, community_id: str, *, cursor: str | None, limit: int
) -> Page[JoinRequestView]:
    _community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_staff(viewer)
    after = decode_cursor(cursor, {"user_id": str})
    docs = await ctx.repo.pending_requests_page(
        community_id, after_user=after["user_id"] if after else None, limit=limit + 1
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["user_id"]})
    names = await ctx.repo.users_by_ids([d["user_id"] for d in docs])
    items = [
        JoinRequestView(
            request_id=d["request"]["id"],
            user_id=d["user_id"],
            display_name=names.get(d["user_id"], {}).get("display_name"),
            message=d["request"].get("message"),
            requested_at=d["request"]["requested_at"],
        )
        for d in docs
    ]
    return Page[JoinRequestView](items=items, next_cursor=next_cursor)


async def decide_request(
    ctx: Context, user: Principal, community_id: str, request_id: str, *, approve: bool
) -> JoinResult:
    community, viewer = await ctx.community_for(community_id, user.sub)
    ctx.require_staff(viewer)
    ctx.require_open(community)
    request = await ctx.repo.find_request(community_id, request_id)
    if request is None:
        raise NotFound("no such join request")
    applicant = request["user_id"]
    current = MemberStatus(request["status"])
    if current is not MemberStatus.PENDING:
        # Deciding again the same way is a no-op; the other way is a conflict.
        if current is (MemberStatus.ACTIVE if approve else MemberStatus.DECLINED):
            return JoinResult(status=current, request_id=request_id)
        raise Conflict(f"this request was already decided ({current.value})")
    decision = {"community_id": community_id, "request_id": request_id, "user_id": applicant, "decided_by": user.sub}
    if approve:
        users = await ctx.repo.users_by_ids([applicant])
        applicant_principal = Principal(
            sub=applicant, email=None, name=users.get(applicant, {}).get("display_name"), expires_at=0
        )
        update = {
            "$set": {"status": MemberStatus.ACTIVE.value, "via": "approval", "joined_at": now(), "decided_by": user.sub}
        }
        entries = [
            ctx.message(JoinApproved(**decision), community_id),
            joined_message(ctx, community, applicant_principal, "approval"),
        ]
        new_status = MemberStatus.ACTIVE
    else:
        update = {"$set": {"status": MemberStatus.DECLINED.value, "decided_by": user.sub, "ended_at": now()}}
        entries = [ctx.message(JoinDeclined(**decision), community_id)]
        new_status = MemberStatus.DECLINED
    written = await ctx.repo.transition(
        community_id,
        applicant,
        expected={"status": MemberStatus.PENDING.value, "request.id": request_id},
        update=update,
        entries=entries,
    )
    if written is None:
        raise Conflict("this request was decided meanwhile")
    await ctx.announce(ctx.repo.memberships, written)
    return JoinResult(status=new_status, request_id=request_id, role=Role.MEMBER if approve else None)


async def accept_code_of_conduct(ctx: Context, user: Principal, community_id: str, version: int) -> None:
    community, viewer = await ctx.community_for(community_id, user.sub)
    if not viewer.is_member:
        raise Forbidden("only members accept a community's code of conduct")
    coc = community.get("code_of_conduct")
    if not coc or coc["version"] != version:
        current = coc["version"] if coc else None
        raise Problem(
            f"the current code of conduct version is {current}",
            status=409,
            errors=[{"field": "version", "message": f"current version is {current}"}],
        )
    written = await ctx.repo.transition(
        community_id,
        user.sub,
        expected={"status": MemberStatus.ACTIVE.value, "coc_version_accepted": {"$ne": version}},
        update={"$set": {"coc_version_accepted": version, "coc_accepted_at": now()}},
        entries=[
            ctx.message(
                CodeOfConductAccepted(community_id=community_id, user_id=user.sub, version=version), community_id
            )
        ],
    )
    await ctx.announce(ctx.repo.memberships, written)  # None when already accepted: nothing to say
