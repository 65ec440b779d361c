"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationView(BaseModel):
    id: str
    type: str
    title: str
    text: str
    # The ids a client links to (community_id, event_id, request_id, invitation_id, ...).
    target: dict[str, str]
    community_id: str | None
    actor_id: str | None
    created_at: datetime
    read: bool
    read_at: datetime | None = None
    # This person's number for the item: 1, 2, 3... in the order they were given (the stream's event id).
    seq: int


class NotificationPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int
