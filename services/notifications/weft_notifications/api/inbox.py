"""The caller's notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from weft_notifications.api.deps import Ctx, CurrentPerson, Cursor, Limit, NotificationId
from weft_notifications.schemas import MarkedRead, NotificationPage, NotificationView, UnreadCount
from weft_notifications.usecases import inbox
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1/me", tags=["notifications"])
CommunityFilter = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/notifications")
async def list_notifications(
    ctx: Ctx,
    me: CurrentPerson,
    unread: bool | None = None,
    community_id: CommunityFilter = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> NotificationPage:
    """Newest first. `unread=true` only unread ones, `unread=false` only read ones."""
    return await inbox.list_notifications(ctx, me, unread=unread, community_id=community_id, cursor=cursor, limit=limit)


@router.get("/notifications/unread-count")
async def unread_count(ctx: Ctx, me: CurrentPerson) -> UnreadCount:
    """A stored counter, kept with every delivery and every read."""
    return await inbox.unread_count(ctx, me)


@router.post("/notifications/read-all")
async def read_all(ctx: Ctx, me: CurrentPerson, community_id: CommunityFilter = None) -> MarkedRead:
    """Mark every unread notification read (only that community's, if given). Idempotent."""
    return await inbox.mark_all_read(ctx, me, community_id)


@router.post("/notifications/{notification_id}/read", responses=problem_responses(404))
async def read_one(ctx: Ctx, me: CurrentPerson, notification_id: NotificationId) -> NotificationView:
    """Idempotent."""
    return await inbox.mark_read(ctx, me, notification_id)
