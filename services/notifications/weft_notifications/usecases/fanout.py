"""Giving a notice to its recipients: inbox items, unread counts and queued mails,
in the transaction of the message that caused it (so a redelivered message, or a
crash half-way, gives nobody a second item and nobody none).

Recipients come in batches (a community's members are read in keyset batches);
each batch is routed through preferences and written with bulk writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from weft_notifications.domain.notices import Notice
from weft_notifications.storage.inbox import NewItem
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.routing import route
from weft_shared.service.clock import now


async def notify(ctx: NotificationsContext, notice: Notice, recipients: Iterable[str]) -> int:
    """Give `notice` to these people (the actor is left out); returns how many items were made."""
    return await notify_batches(ctx, notice, _one_batch(recipients))


async def notify_batches(ctx: NotificationsContext, notice: Notice, batches: AsyncIterable[list[str]]) -> int:
    made = 0
    created_at = now()
    fields = {
        "type": notice.type.value,
        "title": notice.title,
        "text": notice.text,
        "community_id": notice.community_id,
        "actor_id": notice.actor_id,
        "target": notice.target,
        "key": notice.key,
        "created_at": created_at,
    }
    async for batch in batches:
        users = sorted({u for u in batch if u != notice.actor_id})
        if not users:
            continue
        given = await ctx.storage.inbox.already_given(notice.key, users)
        channels = await route(ctx, notice, [u for u in users if u not in given])
        new_items = [NewItem(user, channel, fields) for user, channel in channels.items() if channel != "off"]
        if not new_items:
            continue
        stored = await ctx.storage.inbox.deliver(new_items)
        await ctx.storage.email_outbox.enqueue([d for d in stored if d["channel"] == "email"], created_at)
        made += len(stored)
    return made


async def mail_to_address(ctx: NotificationsContext, notice: Notice, *, to: str, link: str, record_id: str) -> None:
    """Queue a mail to an address that belongs to no account (an invitation by email):
    no inbox item, so the record carries what the mail says. `record_id` is natural
    (one per message), so the same notice is never queued twice."""
    fields = {
        "type": notice.type.value,
        "title": notice.title,
        "text": notice.text,
        "community_id": notice.community_id,
        "target": notice.target,
        "link": link,
    }
    await ctx.storage.email_outbox.enqueue_addressed(record_id, to, fields, now())


async def _one_batch(recipients: Iterable[str]) -> AsyncIterable[list[str]]:
    yield list(recipients)
