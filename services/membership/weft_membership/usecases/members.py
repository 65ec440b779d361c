"""Joining, leaving, removal, roles and code-of-conduct acceptance.

Staff roles live on the community document and memberships in their own
documents, so a rule that spans both (a community always has at least one
*active* owner) holds because the transactions that could break it write a
common document: changing a role writes the community and the member's
membership; ending a membership writes the membership and, for staff, the
community. Two such transactions on the same person conflict, and the one that
retries sees the other's result.
"""

from __future__ import annotations

from weft_membership.domain.access import require_details, require_open, require_owner, require_staff
from weft_membership.domain.membership import (
    JoinPolicy,
    MemberStatus,
    conduct_acceptance,
    may_enter,
    status_of,
)
from weft_membership.domain.roles import Role, Staff
from weft_membership.messages import member_joined
from weft_membership.schemas import JoinBody, JoinResult, MemberView
from weft_membership.storage.documents import Doc
from weft_membership.usecases.context import Access, Context, announce_membership
from weft_shared.contracts.membership import (
    CodeOfConductAccepted,
    JoinRequested,
    JoinWithdrawn,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
)
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction

LAST_OWNER = "a community must keep at least one owner; make someone else owner first"
LAST_OWNER_LEAVING = "the last owner cannot leave; make someone else owner first"


def _standing(access: Access) -> JoinResult:
    """What a repeated join returns: the standing the caller already has."""
    membership = access.membership or {}
    status = access.viewer.status
    if status is MemberStatus.BANNED:
        raise Forbidden("you have been removed from this community and cannot rejoin")
    if status is MemberStatus.PENDING:
        return JoinResult(status=status, request_id=membership["request"]["id"])
    return JoinResult(status=MemberStatus.ACTIVE, role=access.viewer.role)


async def join(ctx: Context, actor: Person, community_id: str, body: JoinBody) -> tuple[JoinResult, bool]:
    """Returns (result, created): created is False when nothing changed (a repeat)."""

    async def work(tx: Transaction) -> tuple[JoinResult, bool]:
        access = await ctx.access(community_id, actor)
        community = access.community
        require_open(community)
        before = access.viewer.status
        if not may_enter(before):
            return _standing(access), False
        policy = JoinPolicy(community["join_policy"])
        if policy is JoinPolicy.INVITE:
            raise Forbidden("this community is invite-only; ask an owner or facilitator for an invitation")
        accepted = conduct_acceptance(community, body.accept_code_of_conduct_version)
        if policy is JoinPolicy.OPEN:
            fields: Doc = {"status": MemberStatus.ACTIVE.value, "via": "open", "joined_at": now(), **accepted}
            await ctx.store.memberships.put(community_id, actor.id, fields, before=before)
            joined = member_joined(community, actor.id, actor.principal.name, via="open")
            announce_membership(tx, joined, community_id, actor.id)
            return JoinResult(status=MemberStatus.ACTIVE, role=Role.MEMBER), True
        request_id = new_id()
        fields = {
            "status": MemberStatus.PENDING.value,
            "request": {"id": request_id, "message": body.message, "requested_at": now()},
            **accepted,
        }
        await ctx.store.memberships.put(community_id, actor.id, fields, before=before)
        requested = JoinRequested(
            community_id=community_id,
            request_id=request_id,
            user_id=actor.id,
            display_name=actor.principal.name,
            message=body.message,
        )
        announce_membership(tx, requested, community_id, actor.id)
        return JoinResult(status=MemberStatus.PENDING, request_id=request_id), True

    return await ctx.uow.run(work)


async def list_members(
    ctx: Context, actor: Person, community_id: str, *, role: Role | None, cursor: str | None, limit: int
) -> Page[MemberView]:
    access = await ctx.access(community_id, actor)
    require_details(access.community, access.viewer)
    after = decode_cursor(cursor, {"user_id": str})
    staff = Staff.of(access.community)
    only: list[str] | None = None
    exclude: list[str] = []
    if role is Role.OWNER:
        only = list(staff.owners)
    elif role is Role.FACILITATOR:
        only = list(staff.facilitators)
    elif role is Role.MEMBER:
        exclude = [*staff.owners, *staff.facilitators]
    docs = await ctx.store.memberships.members_page(
        community_id, only=only, exclude=exclude, after_user=after["user_id"] if after else None, limit=limit + 1
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["user_id"]})
    names = await ctx.store.people.names([d["user_id"] for d in docs])
    items = [
        MemberView(
            user_id=d["user_id"],
            display_name=names.get(d["user_id"]),
            role=staff.role_of(d["user_id"]),
            joined_at=d.get("joined_at"),
        )
        for d in docs
    ]
    return Page[MemberView](items=items, next_cursor=next_cursor)


async def change_role(ctx: Context, actor: Person, community_id: str, target: str, new_role: Role) -> MemberView:
    async def work(tx: Transaction) -> MemberView:
        access = await ctx.access(community_id, actor)
        require_owner(access.viewer)
        require_open(access.community)
        membership = await ctx.store.memberships.get(community_id, target)
        if membership is None or status_of(membership) is not MemberStatus.ACTIVE:
            raise NotFound("no such member")
        staff = Staff.of(access.community)
        old_role = staff.role_of(target)
        if old_role is not new_role:
            await ctx.store.communities.set_fields(
                community_id, staff.with_role(target, new_role, refusal=LAST_OWNER).fields()
            )
            # Written so that the member leaving at the same moment conflicts with this change.
            await ctx.store.memberships.put(
                community_id,
                target,
                {"role_changed_at": now(), "role_changed_by": actor.id},
                before=MemberStatus.ACTIVE,
            )
            changed = MemberRoleChanged(
                community_id=community_id,
                user_id=target,
                old_role=old_role.value,
                new_role=new_role.value,
                changed_by=actor.id,
            )
            announce_membership(tx, changed, community_id, target)
        names = await ctx.store.people.names([target])
        return MemberView(
            user_id=target, display_name=names.get(target), role=new_role, joined_at=membership.get("joined_at")
        )

    return await ctx.uow.run(work)


async def remove_member(ctx: Context, actor: Person, community_id: str, target: str, *, ban: bool) -> None:
    """Leave (self) or remove (staff): the staff role, if any, and the membership
    end together, with the last-owner rule checked in the same transaction."""

    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        leaving = target == actor.id
        if leaving:
            if ban:
                raise Problem(
                    "you cannot ban yourself", status=400, errors=[{"field": "ban", "message": "not for self"}]
                )
            if access.viewer.status is MemberStatus.PENDING and access.membership is not None:
                await _withdraw_request(ctx, tx, community_id, actor, access.membership)
                return
            if not access.viewer.is_member:
                raise NotFound("you are not a member of this community")
            membership = access.membership
        else:
            require_details(access.community, access.viewer)
            require_staff(access.viewer)
            membership = await ctx.store.memberships.get(community_id, target)
        before = status_of(membership)
        if before is not MemberStatus.ACTIVE:
            if not ban:
                raise NotFound("no such member")
            if before is not MemberStatus.BANNED:  # banning twice changes nothing
                await _ban_non_member(ctx, tx, community_id, target, actor, before)
            return
        staff = Staff.of(access.community)
        target_role = staff.role_of(target)
        if not leaving and target_role is not Role.MEMBER and not access.viewer.is_owner:
            raise Forbidden("only owners can remove owners or facilitators")
        if target_role is not Role.MEMBER:
            remaining = staff.with_role(target, Role.MEMBER, refusal=LAST_OWNER_LEAVING)
            await ctx.store.communities.set_fields(community_id, remaining.fields())
        new_status = MemberStatus.BANNED if ban else (MemberStatus.LEFT if leaving else MemberStatus.REMOVED)
        await ctx.store.memberships.put(
            community_id,
            target,
            {"status": new_status.value, "ended_at": now(), "ended_by": actor.id},
            before=before,
        )
        ended = (
            MemberLeft(community_id=community_id, user_id=target, role=target_role.value)
            if leaving
            else MemberRemoved(
                community_id=community_id, user_id=target, role=target_role.value, removed_by=actor.id, banned=ban
            )
        )
        announce_membership(tx, ended, community_id, target)

    await ctx.uow.run(work)


async def _withdraw_request(ctx: Context, tx: Transaction, community_id: str, actor: Person, membership: Doc) -> None:
    """The person who asked to join takes their request back; they may ask again later."""
    request_id = membership["request"]["id"]
    fields = {"status": MemberStatus.LEFT.value, "request.withdrawn_at": now(), "ended_at": now(), "ended_by": actor.id}
    await ctx.store.memberships.put(community_id, actor.id, fields, before=MemberStatus.PENDING)
    withdrawn = JoinWithdrawn(community_id=community_id, request_id=request_id, user_id=actor.id)
    announce_membership(tx, withdrawn, community_id, actor.id)


async def _ban_non_member(
    ctx: Context, tx: Transaction, community_id: str, target: str, actor: Person, before: MemberStatus | None
) -> None:
    """Ban someone who is not (or no longer) a member, or whose request is pending, so they cannot join."""
    await ctx.store.memberships.put(
        community_id,
        target,
        {"status": MemberStatus.BANNED.value, "ended_at": now(), "ended_by": actor.id},
        before=before,
    )
    banned = MemberRemoved(
        community_id=community_id, user_id=target, role=Role.MEMBER.value, removed_by=actor.id, banned=True
    )
    announce_membership(tx, banned, community_id, target)


async def accept_code_of_conduct(ctx: Context, actor: Person, community_id: str, version: int) -> None:
    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        if not access.viewer.is_member:
            raise Forbidden("only members accept a community's code of conduct")
        coc = access.community.get("code_of_conduct")
        if not coc or coc["version"] != version:
            current = coc["version"] if coc else None
            raise Problem(
                f"the current code of conduct version is {current}",
                status=409,
                errors=[{"field": "version", "message": f"current version is {current}"}],
            )
        if access.viewer.conduct_version_accepted == version:
            return  # accepted before: nothing to say
        await ctx.store.memberships.put(
            community_id,
            actor.id,
            {"coc_version_accepted": version, "coc_accepted_at": now()},
            before=MemberStatus.ACTIVE,
        )
        accepted = CodeOfConductAccepted(community_id=community_id, user_id=actor.id, version=version)
        announce_membership(tx, accepted, community_id, actor.id)

    await ctx.uow.run(work)
