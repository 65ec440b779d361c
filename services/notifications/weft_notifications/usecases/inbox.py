"""A person's inbox: list, count, mark read."""

from __future__ import annotations

from typing import Any

from weft_notifications.schemas import MarkedRead, NotificationPage, NotificationView, UnreadCount
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.errors import NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page

Doc = dict[str, Any]


def notification_view(doc: Doc) -> NotificationView:
    return NotificationView(
        id=doc["_id"],
        type=doc["type"],
        title=doc["title"],
        text=doc["text"],
        target=doc.get("target", {}),
        community_id=doc.get("community_id"),
        actor_id=doc.get("actor_id"),
        created_at=doc["created_at"],
        read=doc["read"],
        read_at=doc.get("read_at"),
        seq=doc["seq"],
    )


async def list_notifications(
    ctx: NotificationsContext,
    me: Person,
    *,
    unread: bool | None,
    community_id: str | None,
    cursor: str | None,
    limit: int,
) -> NotificationPage:
    key = decode_cursor(cursor, {"seq": int})
    docs = await ctx.storage.inbox.page(
        me.id,
        before_seq=key["seq"] if key else None,
        limit=limit + 1,
        unread=unread,
        community_id=community_id,
    )
    page, next_cursor = split_page(docs, limit, lambda d: {"seq": d["seq"]})
    return NotificationPage(items=[notification_view(d) for d in page], next_cursor=next_cursor)


async def unread_count(ctx: NotificationsContext, me: Person) -> UnreadCount:
    counter = await ctx.storage.inbox.counter(me.id)
    return UnreadCount(unread=max(0, int(counter.get("unread", 0))))


async def mark_read(ctx: NotificationsContext, me: Person, notification_id: str) -> NotificationView:
    """Idempotent; someone else's id is the same 404 as an unknown one."""

    async def work(_tx: object) -> Doc | None:
        return await ctx.storage.inbox.mark_read(me.id, notification_id, now())

    doc = await ctx.uow.run(work)
    if doc is None:
        raise NotFound("no such notification")
    return notification_view(doc)


async def mark_all_read(ctx: NotificationsContext, me: Person, community_id: str | None) -> MarkedRead:
    async def work(_tx: object) -> int:
        return await ctx.storage.inbox.mark_all_read(me.id, now(), community_id)

    return MarkedRead(marked=await ctx.uow.run(work))
