"""Membership messages: keep the read model, and tell people what happened.

Each function runs in the message's transaction, with its processed-message record;
the read model is sequence-guarded, so a message delivered late changes nothing.
"""

from __future__ import annotations

from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.membership import (
    CommunityArchived,
    CommunityCreated,
    CommunitySnapshot,
    CommunityUpdated,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
)
from weft_shared.messaging.consumer import Delivery, MessageDispatcher


async def _record_community(ctx: NotificationsContext, community: CommunitySnapshot, delivery: Delivery) -> None:
    state = {"name": community.name, "slug": community.slug, "visibility": community.visibility}
    await ctx.storage.view.record_community(community.id, {**state, "archived": community.archived}, delivery.sequence)


async def community_created(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityCreated, delivery: Delivery
) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_updated(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityUpdated, delivery: Delivery
) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_archived(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityArchived, delivery: Delivery
) -> None:
    await _record_community(ctx, message.community, delivery)


async def _record_member(
    ctx: NotificationsContext, community_id: str, user_id: str, active: bool, role: str, delivery: Delivery
) -> None:
    await ctx.storage.view.record_member(community_id, user_id, {"active": active, "role": role}, delivery.sequence)


async def member_joined(
    ctx: NotificationsContext, _envelope: Envelope, message: MemberJoined, delivery: Delivery
) -> None:
    await _record_member(ctx, message.community_id, message.user_id, True, message.role, delivery)
    if message.display_name:
        await ctx.storage.view.note_display_name(message.user_id, message.display_name)


async def member_role_changed(
    ctx: NotificationsContext, _envelope: Envelope, message: MemberRoleChanged, delivery: Delivery
) -> None:
    await _record_member(ctx, message.community_id, message.user_id, True, message.new_role, delivery)


async def member_left(ctx: NotificationsContext, _envelope: Envelope, message: MemberLeft, delivery: Delivery) -> None:
    await _record_member(ctx, message.community_id, message.user_id, False, message.role, delivery)


async def member_removed(
    ctx: NotificationsContext, _envelope: Envelope, message: MemberRemoved, delivery: Delivery
) -> None:
    await _record_member(ctx, message.community_id, message.user_id, False, message.role, delivery)


async def community_name(ctx: NotificationsContext, community_id: str) -> str:
    community = await ctx.storage.view.community(community_id)
    return str(community["name"]) if community else "a community"


async def join_requested(
    ctx: NotificationsContext, envelope: Envelope, message: JoinRequested, _delivery: Delivery
) -> None:
    name = await community_name(ctx, message.community_id)
    who = message.display_name or "Someone"
    notice = Notice(
        type=NotificationType.JOIN_REQUESTED,
        title=f"{who} asked to join {name}",
        text=message.message or f"{who} is waiting for a decision on their request to join {name}.",
        community_id=message.community_id,
        actor_id=message.user_id,
        target={"community_id": message.community_id, "request_id": message.request_id},
        key=envelope.id,
    )
    await notify(ctx, notice, await ctx.storage.view.staff(message.community_id))


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, CommunityCreated, community_created)
    register_handler(dispatcher, ctx, CommunityUpdated, community_updated)
    register_handler(dispatcher, ctx, CommunityArchived, community_archived)
    register_handler(dispatcher, ctx, MemberJoined, member_joined)
    register_handler(dispatcher, ctx, MemberRoleChanged, member_role_changed)
    register_handler(dispatcher, ctx, MemberLeft, member_left)
    register_handler(dispatcher, ctx, MemberRemoved, member_removed)
    register_handler(dispatcher, ctx, JoinRequested, join_requested)
