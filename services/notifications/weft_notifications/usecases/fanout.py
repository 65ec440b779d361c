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
from weft_notifications.usecases.routing import effective_channel, route
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
        "actor_id": None if notice.hide_actor else notice.actor_id,
        "target": notice.target,
        "key": notice.key,
        "about": notice.communities_named(),
        "created_at": created_at,
    }
    hidden = await ctx.storage.view.hold_communities(notice.communities_named())
    async for batch in batches:
        users = sorted({u for u in batch if u != notice.actor_id})
        for community_id in sorted(hidden):  # a hidden community is named only to its members
            users = sorted(await ctx.storage.view.active_members_among(community_id, users)) if users else []
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
    (one per message), so the same notice is never queued twice. An address that
    unsubscribed (its preferences are kept under `mailto:<address>`) gets nothing."""
    if effective_channel(await ctx.storage.preferences.of(f"mailto:{to}"), notice.type, notice.community_id) != "email":
        return
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


async def withdraw_from_outsiders(ctx: NotificationsContext, community_id: str) -> int:
    """A community became hidden: the items that name it leave the inboxes of everyone who
    is not one of its active members (what they were told while it was visible must not
    keep showing its name, id or events). Returns how many items were withdrawn."""
    withdrawn = 0
    async for batch in ctx.storage.inbox.items_about(community_id):
        members = await ctx.storage.view.active_members_among(community_id, sorted({d["user_id"] for d in batch}))
        outsiders = [d for d in batch if d["user_id"] not in members]
        withdrawn += await ctx.storage.inbox.withdraw(outsiders)
    return withdrawn
