"""The frame every community page shares: the community, the viewer's standing, the tabs.

Each area (about, members, events, library, discussions, manage, moderation) renders its page
inside `partials/community_header.html`, from what `community_frame` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from weft_web.gateway import Api

# Roles that may run the community (facilitator tools, moderation).
STAFF_ROLES = frozenset({"owner", "facilitator"})


@dataclass(frozen=True)
class CommunityFrame:
    community: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.community["id"])

    @property
    def role(self) -> str | None:
        role = self.community.get("my_role")
        status = self.community.get("my_status")
        return str(role) if role and status in (None, "active") else None

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def context(self, tab: str) -> dict[str, Any]:
        """Template variables: `community`, `frame`, `tab` (which tab is current)."""
        return {"community": self.community, "frame": self, "tab": tab, "section": "communities"}


async def community_frame(api: Api, community_id: str) -> CommunityFrame:
    """The community as the viewer may see it; an ApiError 404 (shown as "not found") otherwise."""
    return CommunityFrame(await api.get(f"/v1/communities/{community_id}"))
