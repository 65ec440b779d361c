"""Resources-service messages: the library and the discussions, told to the people
the issue names.

- an announcement → every active member of its community (but its author);
- a reply → the thread's participants and followers, who travel sealed (an anonymous
  asker is one of them, and the bus may not name them), still only those who may
  see the thread;
- an accepted answer → its author (sealed: an anonymous answer's author is never named);
- a report → the community's owners and facilitators (never who reported);
- a review due → the same moderators;
- an endorsed (recommended) item → the community's members, by digest by default.

An anonymous post is "An anonymous member"; a Chatham House thread's notices name
only its title. Each function runs in the message's transaction with its
processed-message record, so a redelivery gives nobody a second notice.
"""

from __future__ import annotations

import logging

from weft_notifications.domain import texts
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases import recipients
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify, notify_batches
from weft_notifications.usecases.names import community_name, person_name
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.resources import (
    AnswerAccepted,
    ContentRef,
    ContentReported,
    ReplyFacts,
    ReplyPosted,
    ResourceEndorsed,
    ResourceReviewDue,
    ResourceSnapshot,
    ThreadFacts,
    ThreadPosted,
)
from weft_shared.messaging.consumer import Delivery, MessageDispatcher
from weft_shared.messaging.sealed import SealError, unseal

log = logging.getLogger("weft.notifications.resources")


def opened_recipients(ctx: NotificationsContext, envelope: Envelope, sealed: str | None) -> list[str]:
    """The people sealed in this message; none if it has none or they do not open (logged
    by message id only: never the sealed text, never an id from it)."""
    if not sealed:
        return []
    try:
        return unseal(sealed, ctx.settings.platform.sealing_key(), envelope.id)
    except SealError as exc:
        log.warning("message %s (%s): %s; nobody is told from it", envelope.id, envelope.type, exc)
        return []


async def _author(ctx: NotificationsContext, anonymous: bool, author_id: str | None) -> str:
    return texts.ANONYMOUS if anonymous else await person_name(ctx, author_id)


def _thread_target(thread: ThreadFacts, reply: ReplyFacts | None = None) -> dict[str, str]:
    target = {"community_id": thread.community_id, "thread_id": thread.id}
    if reply is not None:
        target["reply_id"] = reply.id
    if thread.resource_id:
        target["resource_id"] = thread.resource_id
    return target


# -- discussions --------------------------------------------------------------------


async def thread_posted(
    ctx: NotificationsContext, envelope: Envelope, message: ThreadPosted, _delivery: Delivery
) -> None:
    """Only announcements are news for everyone; other threads reach people as they reply and follow."""
    thread = message.thread
    if thread.kind != "announcement":
        return
    wording = texts.announcement_posted(
        await _author(ctx, thread.anonymous, thread.author_id),
        await community_name(ctx, thread.community_id),
        thread.title,
        chatham_house=thread.chatham_house,
    )
    notice = Notice(
        type=NotificationType.ANNOUNCEMENT_POSTED,
        title=wording.title,
        text=wording.text,
        community_id=thread.community_id,
        actor_id=thread.author_id,
        target=_thread_target(thread),
        key=envelope.id,
    )
    await notify_batches(ctx, notice, recipients.community_members(ctx, thread.community_id))


async def reply_posted(
    ctx: NotificationsContext, envelope: Envelope, message: ReplyPosted, _delivery: Delivery
) -> None:
    thread, reply = message.thread, message.reply
    told = await recipients.thread_readers_among(
        ctx, thread, opened_recipients(ctx, envelope, message.sealed_recipients)
    )
    if not told:
        return
    wording = texts.reply_posted(
        await _author(ctx, reply.anonymous, reply.author_id),
        thread.title,
        await community_name(ctx, thread.community_id),
        thread.kind,
        chatham_house=thread.chatham_house,
    )
    notice = Notice(
        type=NotificationType.REPLY_POSTED,
        title=wording.title,
        text=wording.text,
        community_id=thread.community_id,
        actor_id=reply.author_id,
        target=_thread_target(thread, reply),
        key=envelope.id,
    )
    await notify(ctx, notice, told)


async def answer_accepted(
    ctx: NotificationsContext, envelope: Envelope, message: AnswerAccepted, _delivery: Delivery
) -> None:
    thread, reply = message.thread, message.reply
    told = await recipients.thread_readers_among(
        ctx, thread, opened_recipients(ctx, envelope, message.sealed_recipients)
    )
    if not told:
        return
    # `accepted_by` is None only when the anonymous asker accepted.
    who = texts.ANONYMOUS if message.accepted_by is None else await person_name(ctx, message.accepted_by)
    wording = texts.answer_accepted(who, thread.title, chatham_house=thread.chatham_house)
    notice = Notice(
        type=NotificationType.ANSWER_ACCEPTED,
        title=wording.title,
        text=wording.text,
        community_id=thread.community_id,
        actor_id=message.accepted_by,
        target=_thread_target(thread, reply),
        key=envelope.id,
    )
    await notify(ctx, notice, told)


# -- moderation ---------------------------------------------------------------------


def _content_target(report_id: str, content: ContentRef) -> dict[str, str]:
    target = {"community_id": content.community_id, "report_id": report_id, f"{content.kind}_id": content.id}
    if content.thread_id:
        target["thread_id"] = content.thread_id
    return target


async def content_reported(
    ctx: NotificationsContext, envelope: Envelope, message: ContentReported, _delivery: Delivery
) -> None:
    content = message.content
    wording = texts.content_reported(content.kind, await community_name(ctx, content.community_id))
    notice = Notice(
        type=NotificationType.CONTENT_REPORTED,
        title=wording.title,
        text=wording.text,
        community_id=content.community_id,
        actor_id=None,  # who reported is not on the bus, and is never said
        target=_content_target(message.report_id, content),
        key=envelope.id,
    )
    await notify(ctx, notice, await recipients.staff(ctx, content.community_id))


# -- the library --------------------------------------------------------------------


def _resource_target(resource: ResourceSnapshot) -> dict[str, str]:
    return {"community_id": resource.community_id, "resource_id": resource.id}


async def review_due(
    ctx: NotificationsContext, _envelope: Envelope, message: ResourceReviewDue, _delivery: Delivery
) -> None:
    resource = message.resource
    wording = texts.review_due(resource.title, await community_name(ctx, resource.community_id), message.review_by)
    notice = Notice(
        type=NotificationType.REVIEW_DUE,
        title=wording.title,
        text=wording.text,
        community_id=resource.community_id,
        actor_id=None,
        target=_resource_target(resource),
        # Once per item and date, even if the date's message were ever published twice.
        key=f"review_due:{resource.id}:{message.review_by.isoformat()}",
    )
    await notify(ctx, notice, await recipients.staff(ctx, resource.community_id))


async def resource_endorsed(
    ctx: NotificationsContext, _envelope: Envelope, message: ResourceEndorsed, _delivery: Delivery
) -> None:
    """Members hear of an item once, when first recommended; a draft or an archived item
    is not in their library, so nobody is told of it."""
    resource = message.resource
    if resource.status != "published":
        return
    wording = texts.resource_endorsed(
        await person_name(ctx, message.endorsed_by),
        resource.title,
        await community_name(ctx, resource.community_id),
        resource.summary,
    )
    notice = Notice(
        type=NotificationType.RESOURCE_ENDORSED,
        title=wording.title,
        text=wording.text,
        community_id=resource.community_id,
        actor_id=message.endorsed_by,
        target=_resource_target(resource),
        key=f"endorsed:{resource.id}",
    )
    await notify_batches(ctx, notice, recipients.community_members(ctx, resource.community_id))


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    ctx.settings.platform.sealing_key()  # refuse to start without the key, not at the first reply
    register_handler(dispatcher, ctx, ThreadPosted, thread_posted)
    register_handler(dispatcher, ctx, ReplyPosted, reply_posted)
    register_handler(dispatcher, ctx, AnswerAccepted, answer_accepted)
    register_handler(dispatcher, ctx, ContentReported, content_reported)
    register_handler(dispatcher, ctx, ResourceReviewDue, review_due)
    register_handler(dispatcher, ctx, ResourceEndorsed, resource_endorsed)
