"""The viewer's standing in a community, and the one action that fits it (About page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REJOINABLE = frozenset({None, "left", "removed", "declined"})


@dataclass(frozen=True)
class Standing:
    """`action`: join | ask | invitation_only | pending | banned | member."""

    action: str
    conduct_version: int | None  # the current code of conduct's version, if there is one
    must_accept_conduct: bool  # a member who has not accepted the current version


def standing_of(community: dict[str, Any]) -> Standing:
    conduct = community.get("code_of_conduct")
    version = int(conduct["version"]) if conduct else None
    status = community.get("my_status")
    if status == "active":
        accepted = community.get("my_code_of_conduct_version")
        return Standing("member", version, version is not None and accepted != version)
    if status == "pending":
        return Standing("pending", version, False)
    if status == "banned":
        return Standing("banned", version, False)
    policy = community.get("join_policy")
    action = {"open": "join", "approval": "ask"}.get(str(policy), "invitation_only")
    return Standing(action, version, False)
