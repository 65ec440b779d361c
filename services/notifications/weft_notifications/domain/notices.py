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
    # Notices about the person themselves (a removal, a ban) don't name who did it: a
    # moderator's safety comes first. The actor is still never told.
    hide_actor: bool = False
    # Such notices are also kept when their community becomes hidden: the person was in it.
    about_the_person: bool = False

    def communities_named(self) -> list[str]:
        """The communities the notice names (its own, and any other in its target): when one
        of them becomes hidden, the item is withdrawn from everyone who is not its member."""
        if self.about_the_person:
            return []
        named = {v for k, v in self.target.items() if k.endswith("community_id")}
        if self.community_id is not None:
            named.add(self.community_id)
        return sorted(named)
