"""A notice: what one message tells people, before it is addressed to anyone."""

from __future__ import annotations

from dataclasses import dataclass, field

from weft_notifications.domain.catalogue import NotificationType


@dataclass(frozen=True, slots=True)
class Notice:
    type: NotificationType
    title: str  # one line: "Ana asked to join Falls Prevention"
    text: str  # a short sentence or two
    community_id: str | None
    actor_id: str | None  # who did it (never told of their own action); None: the system
    # The ids a client links to: {"community_id": ..., "event_id": ..., "request_id": ...}.
    target: dict[str, str] = field(default_factory=dict)
    # What the notice is about, unique per person: the message id, or `series:<id>` for
    # one notice per series of events.
    key: str = ""
