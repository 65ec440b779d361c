"""The approval queue: join requests of communities that approve their members."""

from __future__ import annotations

from weft_membership.domain.access import require_open, require_staff
from weft_membership.domain.membership import MemberStatus
from weft_membership.domain.roles import Role, Staff
from weft_membership.messages import member_joined
from weft_membership.schemas import JoinRequestView, JoinResult
from weft_membership.usecases.context import Context, announce_membership
from weft_shared.contracts.membership import JoinApproved, JoinDeclined
from weft_shared.errors import Conflict, NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction


async def list_requests(
    ctx: Context, actor: Person, community_id: str, *, cursor: str | None, limit: int
) -> Page[JoinRequestView]:
    access = await ctx.access(community_id, actor)
    require_staff(access.viewer)
    after = decode_cursor(cursor, {"user_id": str})
    docs = await ctx.store.memberships.pending_requests_page(
        community_id, after_user=after["user_id"] if after else None, limit=limit + 1
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["user_id"]})
    names = await ctx.store.people.names([d["user_id"] for d in docs])
    items = [
        JoinRequestView(
            request_id=d["request"]["id"],
            user_id=d["user_id"],
            display_name=names.get(d["user_id"]),
            message=d["request"].get("message"),
            requested_at=d["request"]["requested_at"],
        )
        for d in docs
    ]
    return Page[JoinRequestView](items=items, next_cursor=next_cursor)


async def decide_request(
    ctx: Context, actor: Person, community_id: str, request_id: str, *, approve: bool
) -> JoinResult:
    async def work(tx: Transaction) -> JoinResult:
        access = await ctx.access(community_id, actor)
        require_staff(access.viewer)
        require_open(access.community)
        request = await ctx.store.memberships.find_request(community_id, request_id)
        if request is None:
            raise NotFound("no such join request")
        applicant = request["user_id"]
        current = MemberStatus(request["status"])
        if current is not MemberStatus.PENDING and request["request"].get("withdrawn_at"):
            raise Conflict("this request was withdrawn by the person who made it")
        if current is not MemberStatus.PENDING:
            # Deciding again the same way is a no-op; the other way is a conflict.
            if current is (MemberStatus.ACTIVE if approve else MemberStatus.DECLINED):
                # The answer the first decision gave (with the role the member holds now).
                role = Staff.of(access.community).role_of(applicant) if approve else None
                return JoinResult(status=current, request_id=request_id, role=role)
            raise Conflict(f"this request was already decided ({current.value})")
        decision = {
            "community_id": community_id,
            "request_id": request_id,
            "user_id": applicant,
            "decided_by": actor.id,
        }
        if not approve:
            fields = {"status": MemberStatus.DECLINED.value, "decided_by": actor.id, "ended_at": now()}
            await ctx.store.memberships.put(community_id, applicant, fields, before=current)
            announce_membership(tx, JoinDeclined(**decision), community_id, applicant)
            return JoinResult(status=MemberStatus.DECLINED, request_id=request_id)
        fields = {"status": MemberStatus.ACTIVE.value, "via": "approval", "joined_at": now(), "decided_by": actor.id}
        await ctx.store.memberships.put(community_id, applicant, fields, before=current)
        names = await ctx.store.people.names([applicant])
        announce_membership(tx, JoinApproved(**decision), community_id, applicant)
        joined = member_joined(access.community, applicant, names.get(applicant), via="approval")
        announce_membership(tx, joined, community_id, applicant)
        return JoinResult(status=MemberStatus.ACTIVE, request_id=request_id, role=Role.MEMBER)

    return await ctx.uow.run(work)
