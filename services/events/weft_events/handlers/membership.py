"""Membership messages: keep the membership view, and apply their consequences.

One function per message type. Each runs in the message's transaction (with its
processed-message record), and is idempotent: the view is sequence-guarded, and
the consequences (dropping a leaver's places, and those a removed link no longer
allows; cancelling an archived community's events) change nothing the second time.
"""

from __future__ import annotations

from weft_events.usecases.context import EventsContext
from weft_events.usecases.events import cancel_community_events
from weft_events.usecases.rsvps import release_places, release_unlinked_places
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
from weft_shared.messaging.handlers import ContextHandlers
from weft_shared.service.actor import System


async def _record_community(ctx: EventsContext, community: CommunitySnapshot, delivery: Delivery) -> bool:
    state = {"name": community.name, "visibility": community.visibility, "archived": community.archived}
    return await ctx.storage.membership.record_community(community.id, state, delivery.sequence)


async def _record_link(ctx: EventsContext, link: LinkFacts, active: bool, delivery: Delivery) -> bool:
    state = {
        "communities": sorted([link.from_community_id, link.to_community_id]),
        "share_events": link.share_events,
        "active": active,
    }
    return await ctx.storage.membership.record_link(link.link_id, state, delivery.sequence)


async def community_created(ctx: EventsContext, message: CommunityCreated, delivery: Delivery) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_updated(ctx: EventsContext, message: CommunityUpdated, delivery: Delivery) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_archived(ctx: EventsContext, message: CommunityArchived, delivery: Delivery) -> None:
    if await _record_community(ctx, message.community, delivery):
        actor = System(reason="the community was archived", on_behalf_of=message.archived_by)
        await cancel_community_events(ctx, actor, message.community.id)


async def member_joined(ctx: EventsContext, message: MemberJoined, delivery: Delivery) -> None:
    state = {"active": True, "role": message.role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


async def member_role_changed(ctx: EventsContext, message: MemberRoleChanged, delivery: Delivery) -> None:
    state = {"active": True, "role": message.new_role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


# A leave handled after a later rejoin (a redelivery, or a batch handled out of order)
# changes no view, but still releases the places granted before it: `release_places`
# keeps only those granted on a newer fact.


async def member_left(ctx: EventsContext, message: MemberLeft, delivery: Delivery) -> None:
    state = {"active": False, "role": message.role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)
    actor = System(reason="left the community", on_behalf_of=message.user_id)
    await release_places(
        ctx, actor, message.community_id, message.user_id, "left_community", left_at_seq=delivery.sequence
    )


async def member_removed(ctx: EventsContext, message: MemberRemoved, delivery: Delivery) -> None:
    # A ban is kept: a banned person may not book (or walk into) the community's events.
    state = {"active": False, "role": message.role, "banned": message.banned}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)
    actor = System(reason="removed from the community", on_behalf_of=message.removed_by)
    await release_places(
        ctx, actor, message.community_id, message.user_id, "removed_from_community", left_at_seq=delivery.sequence
    )


async def link_accepted(ctx: EventsContext, message: LinkAccepted, delivery: Delivery) -> None:
    await _record_link(ctx, message.link, True, delivery)


async def link_removed(ctx: EventsContext, message: LinkRemoved, delivery: Delivery) -> None:
    if await _record_link(ctx, message.link, False, delivery):
        actor = System(reason="the community link was removed", on_behalf_of=message.removed_by)
        link = message.link
        await release_unlinked_places(ctx, actor, [link.from_community_id, link.to_community_id])


def register(dispatcher: MessageDispatcher, ctx: EventsContext) -> None:
    on = ContextHandlers(dispatcher, ctx).on
    on(CommunityCreated, community_created)
    on(CommunityUpdated, community_updated)
    on(CommunityArchived, community_archived)
    on(MemberJoined, member_joined)
    on(MemberRoleChanged, member_role_changed)
    on(MemberLeft, member_left)
    on(MemberRemoved, member_removed)
    on(LinkAccepted, link_accepted)
    on(LinkRemoved, link_removed)
