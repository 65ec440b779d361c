"""Handlers of membership messages: keep the read model, apply the consequences.

Every handler is idempotent: facts are sequence-guarded upserts, and the
consequences (dropping a leaver's RSVPs, cancelling an archived community's
events) change nothing the second time.
"""

from __future__ import annotations

from weft_events.usecases.context import Context
from weft_events.usecases.events import cancel_event
from weft_events.usecases.rsvps import Reason, cancel_rsvp
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.membership import (
    CommunityArchived,
    CommunityCreated,
    CommunitySnapshot,
    CommunityUpdated,
    LinkAccepted,
    LinkFacts,
    LinkRemoved,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
)
from weft_shared.messaging.consumer import Delivery, MessageDispatcher


def register(dispatcher: MessageDispatcher, ctx: Context) -> None:
    async def community_fact(snapshot: CommunitySnapshot, delivery: Delivery) -> bool:
        state = {"name": snapshot.name, "visibility": snapshot.visibility, "archived": snapshot.archived}
        return await ctx.facts.community(snapshot.id, state, delivery.sequence)

    @dispatcher.on(CommunityCreated)
    async def created(envelope: Envelope, payload: CommunityCreated, delivery: Delivery) -> None:
        await community_fact(payload.community, delivery)

    @dispatcher.on(CommunityUpdated)
    async def updated(envelope: Envelope, payload: CommunityUpdated, delivery: Delivery) -> None:
        await community_fact(payload.community, delivery)

    @dispatcher.on(CommunityArchived)
    async def archived(envelope: Envelope, payload: CommunityArchived, delivery: Delivery) -> None:
        if await community_fact(payload.community, delivery):
            for event in await ctx.repo.upcoming_of_community(payload.community.id):
                await cancel_event(
                    ctx,
                    None,
                    event["_id"],
                    series=False,
                    reason="the community was archived",
                    actor=payload.archived_by,
                )

    async def active_member(community_id: str, user_id: str, role: str, delivery: Delivery) -> None:
        await ctx.facts.member(community_id, user_id, {"active": True, "role": role}, delivery.sequence)

    @dispatcher.on(MemberJoined)
    async def joined(envelope: Envelope, payload: MemberJoined, delivery: Delivery) -> None:
        await active_member(payload.community_id, payload.user_id, payload.role, delivery)

    @dispatcher.on(MemberRoleChanged)
    async def role_changed(envelope: Envelope, payload: MemberRoleChanged, delivery: Delivery) -> None:
        await active_member(payload.community_id, payload.user_id, payload.new_role, delivery)

    async def gone(community_id: str, user_id: str, role: str, reason: Reason, delivery: Delivery) -> None:
        state = {"active": False, "role": role}
        if await ctx.facts.member(community_id, user_id, state, delivery.sequence):
            for event in await ctx.repo.upcoming_with_attendee(community_id, user_id):
                await cancel_rsvp(ctx, user_id, event["_id"], reason=reason)

    @dispatcher.on(MemberLeft)
    async def left(envelope: Envelope, payload: MemberLeft, delivery: Delivery) -> None:
        await gone(payload.community_id, payload.user_id, payload.role, "left_community", delivery)

    @dispatcher.on(MemberRemoved)
    async def removed(envelope: Envelope, payload: MemberRemoved, delivery: Delivery) -> None:
        await gone(payload.community_id, payload.user_id, payload.role, "removed_from_community", delivery)

    async def link_fact(link: LinkFacts, active: bool, delivery: Delivery) -> None:
        state = {
            "communities": sorted([link.from_community_id, link.to_community_id]),
            "share_events": link.share_events,
            "active": active,
        }
        await ctx.facts.link(link.link_id, state, delivery.sequence)

    @dispatcher.on(LinkAccepted)
    async def link_accepted(envelope: Envelope, payload: LinkAccepted, delivery: Delivery) -> None:
        await link_fact(payload.link, True, delivery)

    @dispatcher.on(LinkRemoved)
    async def link_removed(envelope: Envelope, payload: LinkRemoved, delivery: Delivery) -> None:
        await link_fact(payload.link, False, delivery)
