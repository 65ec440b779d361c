"""Membership messages: keep the read model, and tell people what happened.

Each function runs in the message's transaction, with its processed-message record;
the read model is sequence-guarded, so a message delivered late changes nothing.
"""

from __future__ import annotations

from typing import Any

from weft_notifications.domain import texts
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases import recipients
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import mail_to_address, notify, notify_batches, withdraw_from_outsiders
from weft_notifications.usecases.mail import invitation_url
from weft_notifications.usecases.names import community_name, person_name
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.membership import (
    CodeOfConductPublished,
    CommunityArchived,
    CommunityCreated,
    CommunitySnapshot,
    CommunityUpdated,
    InvitationCreated,
    JoinApproved,
    JoinDeclined,
    JoinRequested,
    LinkAccepted,
    LinkFacts,
    LinkProposed,
    LinkRemoved,
    MemberJoined,
    MemberLeft,
    MemberRemoved,
    MemberRoleChanged,
    ProfileUpdated,
)
from weft_shared.messaging.consumer import Delivery, MessageDispatcher

# -- the read model ---------------------------------------------------------------


async def _record_community(ctx: NotificationsContext, community: CommunitySnapshot, delivery: Delivery) -> bool:
    """True if this is the newest fact about the community (also when redelivered)."""
    state = {"name": community.name, "slug": community.slug, "visibility": community.visibility}
    return await ctx.storage.view.record_community(
        community.id, {**state, "archived": community.archived}, delivery.sequence
    )


async def community_created(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityCreated, delivery: Delivery
) -> None:
    await _record_community(ctx, message.community, delivery)


async def community_updated(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityUpdated, delivery: Delivery
) -> None:
    current = await _record_community(ctx, message.community, delivery)
    if current and message.community.visibility == "hidden" and "visibility" in message.changed:
        await withdraw_from_outsiders(ctx, message.community.id)


async def community_archived(
    ctx: NotificationsContext, _envelope: Envelope, message: CommunityArchived, delivery: Delivery
) -> None:
    await _record_community(ctx, message.community, delivery)


async def _record_member(
    ctx: NotificationsContext,
    community_id: str,
    user_id: str,
    delivery: Delivery,
    *,
    active: bool,
    role: str,
    banned: bool = False,
) -> None:
    state = {"active": active, "role": role, "banned": banned}
    await ctx.storage.view.record_member(community_id, user_id, state, delivery.sequence)


async def member_joined(
    ctx: NotificationsContext, _envelope: Envelope, message: MemberJoined, delivery: Delivery
) -> None:
    await _record_member(ctx, message.community_id, message.user_id, delivery, active=True, role=message.role)
    if message.display_name:
        await ctx.storage.view.record_name(message.user_id, message.display_name, delivery.sequence)


async def member_left(ctx: NotificationsContext, _envelope: Envelope, message: MemberLeft, delivery: Delivery) -> None:
    await _record_member(ctx, message.community_id, message.user_id, delivery, active=False, role=message.role)


async def profile_updated(
    ctx: NotificationsContext, _envelope: Envelope, message: ProfileUpdated, delivery: Delivery
) -> None:
    if message.display_name:
        await ctx.storage.view.record_name(message.user_id, message.display_name, delivery.sequence)


async def _record_link(ctx: NotificationsContext, link: LinkFacts, delivery: Delivery, *, active: bool) -> None:
    state = {
        "communities": sorted([link.from_community_id, link.to_community_id]),
        "from_community_id": link.from_community_id,
        "to_community_id": link.to_community_id,
        "share_events": link.share_events,
        "share_resources": link.share_resources,
        "active": active,
    }
    await ctx.storage.view.record_link(link.link_id, state, delivery.sequence)


async def link_removed(
    ctx: NotificationsContext, _envelope: Envelope, message: LinkRemoved, delivery: Delivery
) -> None:
    await _record_link(ctx, message.link, delivery, active=False)


# -- notices ------------------------------------------------------------------------


async def join_requested(
    ctx: NotificationsContext, envelope: Envelope, message: JoinRequested, delivery: Delivery
) -> None:
    if message.display_name:
        await ctx.storage.view.record_name(message.user_id, message.display_name, delivery.sequence)
    wording = texts.join_requested(
        message.display_name or texts.SOMEONE, await community_name(ctx, message.community_id), message.message
    )
    notice = Notice(
        type=NotificationType.JOIN_REQUESTED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.user_id,
        target={"community_id": message.community_id, "request_id": message.request_id},
        key=envelope.id,
    )
    await notify(ctx, notice, await ctx.storage.view.staff(message.community_id))


async def _decided(
    ctx: NotificationsContext, envelope: Envelope, message: JoinApproved | JoinDeclined, approved: bool
) -> None:
    name = await community_name(ctx, message.community_id)
    wording = texts.join_approved(name) if approved else texts.join_declined(name)
    notice = Notice(
        type=NotificationType.JOIN_APPROVED if approved else NotificationType.JOIN_DECLINED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.decided_by,
        target={"community_id": message.community_id, "request_id": message.request_id},
        key=envelope.id,
    )
    await notify(ctx, notice, [message.user_id])


async def join_approved(
    ctx: NotificationsContext, envelope: Envelope, message: JoinApproved, _delivery: Delivery
) -> None:
    await _decided(ctx, envelope, message, approved=True)


async def join_declined(
    ctx: NotificationsContext, envelope: Envelope, message: JoinDeclined, _delivery: Delivery
) -> None:
    await _decided(ctx, envelope, message, approved=False)


async def invitation_created(
    ctx: NotificationsContext, envelope: Envelope, message: InvitationCreated, _delivery: Delivery
) -> None:
    """To a person with an account: in their inbox. To an address with no account yet:
    nobody's inbox, but a mail to that address with the accept link."""
    wording = texts.invitation(await person_name(ctx, message.invited_by), message.community_name, message.expires_at)
    target = {
        "community_id": message.community_id,
        "invitation_id": message.invitation_id,
        # Only the invitee can use it: accepting checks their identity.
        "accept_path": message.accept_path,
    }
    notice = Notice(
        type=NotificationType.INVITATION_RECEIVED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.invited_by,
        target=target,
        key=envelope.id,
    )
    if message.invited_user_id is not None:
        await notify(ctx, notice, [message.invited_user_id])
    elif message.invited_email is not None:
        link = invitation_url(ctx.settings, message.accept_path)
        await mail_to_address(ctx, notice, to=message.invited_email, link=link, record_id=f"invitation:{envelope.id}")


async def member_role_changed(
    ctx: NotificationsContext, envelope: Envelope, message: MemberRoleChanged, delivery: Delivery
) -> None:
    await _record_member(ctx, message.community_id, message.user_id, delivery, active=True, role=message.new_role)
    name = await community_name(ctx, message.community_id)
    wording = texts.role_changed(name, message.old_role, message.new_role)
    notice = Notice(
        type=NotificationType.ROLE_CHANGED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.changed_by,
        target={"community_id": message.community_id},
        key=envelope.id,
    )
    await notify(ctx, notice, [message.user_id])


async def member_removed(
    ctx: NotificationsContext, envelope: Envelope, message: MemberRemoved, delivery: Delivery
) -> None:
    was_member = await ctx.storage.view.is_active_member(message.community_id, message.user_id)
    await _record_member(
        ctx, message.community_id, message.user_id, delivery, active=False, role=message.role, banned=message.banned
    )
    name = await community_name(ctx, message.community_id)
    # A ban of someone who was not a member (a declined asker, say) removes them from nothing.
    wording = texts.removed(name, banned=message.banned) if was_member else texts.barred(name)
    notice = Notice(
        type=NotificationType.REMOVED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.removed_by,
        target={"community_id": message.community_id},
        key=envelope.id,
        hide_actor=True,
        about_the_person=True,
    )
    await notify(ctx, notice, [message.user_id])


async def code_of_conduct_published(
    ctx: NotificationsContext, envelope: Envelope, message: CodeOfConductPublished, _delivery: Delivery
) -> None:
    wording = texts.code_of_conduct(await community_name(ctx, message.community_id), message.version)
    notice = Notice(
        type=NotificationType.CODE_OF_CONDUCT_PUBLISHED,
        title=wording.title,
        text=wording.text,
        community_id=message.community_id,
        actor_id=message.published_by,
        target={"community_id": message.community_id, "version": str(message.version)},
        key=envelope.id,
    )
    await notify_batches(ctx, notice, recipients.community_members(ctx, message.community_id))


async def _link_notice(
    ctx: NotificationsContext, link: LinkFacts, action: str, actor_id: str, *, proposed: bool
) -> None:
    """Each link message comes twice (once per community's scope): the notice is keyed
    on the link and the action, so each owner gets one. Each side's owners are told
    with the other side named, unless it is hidden: then it is "a community", without
    its id (as membership shows them the link)."""
    sides = [link.from_community_id, link.to_community_id]
    known = {c: await ctx.storage.view.community(c) for c in sides}
    who = await person_name(ctx, actor_id)
    for own, other in (sides, sides[::-1]):
        shown = {c: _shown(known[c]) if c == other else known[c] for c in sides}
        names = [_name(shown[c]) for c in sides]
        actor = who if shown[sides[0] if proposed else sides[1]] else texts.SOMEONE
        wording = texts.link_proposed(actor, *names) if proposed else texts.link_accepted(actor, *names)
        target = {"link_id": link.link_id, "community_id": own}
        if shown[other]:
            target["other_community_id"] = other
        notice = Notice(
            type=NotificationType.LINK_PROPOSED if proposed else NotificationType.LINK_ACCEPTED,
            title=wording.title,
            text=wording.text,
            community_id=own,
            actor_id=actor_id,
            target=target,
            key=f"link:{link.link_id}:{action}",
            hide_actor=actor == texts.SOMEONE,  # the actor is the hidden side's owner: no id either
        )
        await notify(ctx, notice, await ctx.storage.view.owners([own]))


def _name(community: dict[str, Any] | None) -> str:
    return str(community["name"]) if community else texts.A_COMMUNITY


def _shown(community: dict[str, Any] | None) -> dict[str, Any] | None:
    """A community as the other side's owners may see it: not at all if hidden (or unknown)."""
    return None if community is None or community.get("visibility") == "hidden" else community


async def link_proposed(
    ctx: NotificationsContext, _envelope: Envelope, message: LinkProposed, delivery: Delivery
) -> None:
    await _record_link(ctx, message.link, delivery, active=False)
    await _link_notice(ctx, message.link, "proposed", message.proposed_by, proposed=True)


async def link_accepted(
    ctx: NotificationsContext, _envelope: Envelope, message: LinkAccepted, delivery: Delivery
) -> None:
    await _record_link(ctx, message.link, delivery, active=True)
    await _link_notice(ctx, message.link, "accepted", message.accepted_by, proposed=False)


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, CommunityCreated, community_created)
    register_handler(dispatcher, ctx, CommunityUpdated, community_updated)
    register_handler(dispatcher, ctx, CommunityArchived, community_archived)
    register_handler(dispatcher, ctx, MemberJoined, member_joined)
    register_handler(dispatcher, ctx, MemberRoleChanged, member_role_changed)
    register_handler(dispatcher, ctx, MemberLeft, member_left)
    register_handler(dispatcher, ctx, MemberRemoved, member_removed)
    register_handler(dispatcher, ctx, ProfileUpdated, profile_updated)
    register_handler(dispatcher, ctx, JoinRequested, join_requested)
    register_handler(dispatcher, ctx, JoinApproved, join_approved)
    register_handler(dispatcher, ctx, JoinDeclined, join_declined)
    register_handler(dispatcher, ctx, InvitationCreated, invitation_created)
    register_handler(dispatcher, ctx, CodeOfConductPublished, code_of_conduct_published)
    register_handler(dispatcher, ctx, LinkProposed, link_proposed)
    register_handler(dispatcher, ctx, LinkAccepted, link_accepted)
    register_handler(dispatcher, ctx, LinkRemoved, link_removed)
