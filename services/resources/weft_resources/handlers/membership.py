"""Membership messages: keep the membership view (handlers for other consequences, such
as withdrawing shares a removed link no longer allows, register beside these).

One function per message type. Each runs in the message's transaction (with its
processed-message record) and is idempotent: the view is sequence-guarded.
"""

from __future__ import annotations

from weft_resources.usecases.context import ResourcesContext
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


async def _record_community(ctx: ResourcesContext, community: CommunitySnapshot, delivery: Delivery) -> bool:
    state = {"name": community.name, "visibility": community.visibility, "archived": community.archived}
    return await ctx.storage.membership.record_community(community.id, state, delivery.sequence)


async def _record_link(ctx: ResourcesContext, link: LinkFacts, active: bool, delivery: Delivery) -> bool:
    state = {
        "communities": sorted([link.from_community_id, link.to_community_id]),
        "share_resources": link.share_resources,
        "active": active,
    }
    return await ctx.storage.membership.record_link(link.link_id, state, delivery.sequence)


async def community_created(ctx: ResourcesContext, message: CommunityCreated, delivery: Delivery) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_updated(ctx: ResourcesContext, message: CommunityUpdated, delivery: Delivery) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_archived(ctx: ResourcesContext, message: CommunityArchived, delivery: Delivery) -> None:
    await _record_community(ctx, message.community, delivery)


async def member_joined(ctx: ResourcesContext, message: MemberJoined, delivery: Delivery) -> None:
    state = {"active": True, "role": message.role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


async def member_role_changed(ctx: ResourcesContext, message: MemberRoleChanged, delivery: Delivery) -> None:
    state = {"active": True, "role": message.new_role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


async def member_left(ctx: ResourcesContext, message: MemberLeft, delivery: Delivery) -> None:
    state = {"active": False, "role": message.role, "banned": False}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


async def member_removed(ctx: ResourcesContext, message: MemberRemoved, delivery: Delivery) -> None:
    # Their earlier posts stay as they were (attributed, or anonymous); they can no longer post.
    state = {"active": False, "role": message.role, "banned": message.banned}
    await ctx.storage.membership.record_member(message.community_id, message.user_id, state, delivery.sequence)


async def link_accepted(ctx: ResourcesContext, message: LinkAccepted, delivery: Delivery) -> None:
    await _record_link(ctx, message.link, True, delivery)


async def link_removed(ctx: ResourcesContext, message: LinkRemoved, delivery: Delivery) -> None:
    # Partners' views and explicit shares follow the link at read time: nothing to rewrite.
    await _record_link(ctx, message.link, False, delivery)


def register(dispatcher: MessageDispatcher, ctx: ResourcesContext) -> None:
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
