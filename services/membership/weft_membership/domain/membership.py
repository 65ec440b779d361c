"""A person's membership of one community: its states and the moves between them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from weft_shared.errors import Problem


class JoinPolicy(StrEnum):
    OPEN = "open"
    APPROVAL = "approval"
    INVITE = "invite"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    PENDING = "pending"
    LEFT = "left"
    REMOVED = "removed"
    DECLINED = "declined"
    BANNED = "banned"


# A membership in one of these states may (re)join or (re)request.
REJOINABLE = frozenset({MemberStatus.LEFT, MemberStatus.REMOVED, MemberStatus.DECLINED})


def status_of(membership: dict[str, Any] | None) -> MemberStatus | None:
    return MemberStatus(membership["status"]) if membership else None


def may_enter(status: MemberStatus | None) -> bool:
    """Joining or asking to join starts from no membership or a rejoinable one."""
    return status is None or status in REJOINABLE


def member_count_change(before: MemberStatus | None, after: MemberStatus | None) -> int:
    """How a move changes the community's count of active members."""
    return int(after is MemberStatus.ACTIVE) - int(before is MemberStatus.ACTIVE)


def conduct_acceptance(community: dict[str, Any], accepted_version: int | None) -> dict[str, int]:
    """Joining requires accepting the current code of conduct, when there is one:
    the fields that record the acceptance, or a 422 naming the version to accept."""
    coc = community.get("code_of_conduct")
    if not coc:
        return {}
    if accepted_version != coc["version"]:
        raise Problem(
            f"this community has a code of conduct (version {coc['version']}); "
            "read it and send accept_code_of_conduct_version with that number",
            status=422,
            errors=[{"field": "accept_code_of_conduct_version", "message": f"must be {coc['version']}"}],
        )
    return {"coc_version_accepted": coc["version"]}
