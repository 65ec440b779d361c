"""The notification types, what each one says, and how each reaches people by default.

A *channel* says how a person hears of one type of notification. Every channel but
`off` puts the notification in their inbox (and on their live stream); `email`
also mails it at once; `digest_daily` / `digest_weekly` list it, if still unread,
in that period's digest mail.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Channel = Literal["in_app", "email", "digest_daily", "digest_weekly", "off"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email", "digest_daily", "digest_weekly", "off")


class NotificationType(StrEnum):
    """Names people see in their preferences; one per thing they can be told."""

    JOIN_REQUESTED = "join_requested"
    JOIN_APPROVED = "join_approved"
    JOIN_DECLINED = "join_declined"
    INVITATION_RECEIVED = "invitation_received"
    ROLE_CHANGED = "role_changed"
    REMOVED = "removed"
    CODE_OF_CONDUCT_PUBLISHED = "code_of_conduct_published"
    LINK_PROPOSED = "link_proposed"
    LINK_ACCEPTED = "link_accepted"
    EVENT_SCHEDULED = "event_scheduled"
    EVENT_CHANGED = "event_changed"
    EVENT_CANCELLED = "event_cancelled"
    RSVP_PROMOTED = "rsvp_promoted"
    REMINDER = "reminder"
    WEBHOOK_DISABLED = "webhook_disabled"
    ANNOUNCEMENT_POSTED = "announcement_posted"
    REPLY_POSTED = "reply_posted"
    ANSWER_ACCEPTED = "answer_accepted"
    CONTENT_REPORTED = "content_reported"
    REVIEW_DUE = "review_due"
    RESOURCE_ENDORSED = "resource_endorsed"
    EXPORT_READY = "export_ready"
    EXPORT_INCOMPLETE = "export_incomplete"


DEFAULT_CHANNELS: dict[NotificationType, Channel] = {
    NotificationType.JOIN_REQUESTED: "email",
    NotificationType.JOIN_APPROVED: "email",
    NotificationType.JOIN_DECLINED: "email",
    NotificationType.INVITATION_RECEIVED: "email",
    NotificationType.ROLE_CHANGED: "email",
    NotificationType.REMOVED: "email",
    NotificationType.CODE_OF_CONDUCT_PUBLISHED: "email",
    NotificationType.LINK_PROPOSED: "in_app",
    NotificationType.LINK_ACCEPTED: "in_app",
    NotificationType.EVENT_SCHEDULED: "digest_daily",
    NotificationType.EVENT_CHANGED: "email",
    NotificationType.EVENT_CANCELLED: "email",
    NotificationType.RSVP_PROMOTED: "email",
    NotificationType.REMINDER: "email",
    NotificationType.WEBHOOK_DISABLED: "email",
    NotificationType.ANNOUNCEMENT_POSTED: "email",
    # Replies come often: the inbox (and the live stream) by default, a mail only if chosen.
    NotificationType.REPLY_POSTED: "in_app",
    NotificationType.ANSWER_ACCEPTED: "in_app",
    NotificationType.CONTENT_REPORTED: "email",  # moderators act on it
    NotificationType.REVIEW_DUE: "email",
    # A recommendation is reading, not news: in the inbox and the weekly digest, never a mail of its own.
    NotificationType.RESOURCE_ENDORSED: "digest_weekly",
    # The person asked for it and waits for it: a mail as well as the inbox.
    NotificationType.EXPORT_READY: "email",
    NotificationType.EXPORT_INCOMPLETE: "email",
}

# Someone removed or banned is told even if they had muted that community: it is about them.
UNMUTABLE: frozenset[NotificationType] = frozenset({NotificationType.REMOVED, NotificationType.ROLE_CHANGED})

# What each type is about, as it ends "You will no longer get emails about ..." (unsubscribe
# pages, the preferences listing).
TOPICS: dict[NotificationType, str] = {
    NotificationType.JOIN_REQUESTED: "new join requests",
    NotificationType.JOIN_APPROVED: "your join requests being approved",
    NotificationType.JOIN_DECLINED: "your join requests being declined",
    NotificationType.INVITATION_RECEIVED: "invitations",
    NotificationType.ROLE_CHANGED: "changes to your role",
    NotificationType.REMOVED: "being removed",
    NotificationType.CODE_OF_CONDUCT_PUBLISHED: "new codes of conduct",
    NotificationType.LINK_PROPOSED: "proposed community links",
    NotificationType.LINK_ACCEPTED: "accepted community links",
    NotificationType.EVENT_SCHEDULED: "new events",
    NotificationType.EVENT_CHANGED: "changed events",
    NotificationType.EVENT_CANCELLED: "cancelled events",
    NotificationType.RSVP_PROMOTED: "places you got from a waitlist",
    NotificationType.REMINDER: "event reminders",
    NotificationType.WEBHOOK_DISABLED: "disabled webhooks",
    NotificationType.ANNOUNCEMENT_POSTED: "announcements",
    NotificationType.REPLY_POSTED: "replies in threads you take part in or follow",
    NotificationType.ANSWER_ACCEPTED: "your answers being accepted",
    NotificationType.CONTENT_REPORTED: "content reported to moderators",
    NotificationType.REVIEW_DUE: "library items due for review",
    NotificationType.RESOURCE_ENDORSED: "recommended library items",
    NotificationType.EXPORT_READY: "your personal-data exports being ready",
    NotificationType.EXPORT_INCOMPLETE: "your personal-data exports that could not be completed",
}
