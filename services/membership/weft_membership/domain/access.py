"""Who may know of, see and change a community: what decides 404 vs 403."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from weft_membership.domain.membership import MemberStatus, status_of
from weft_membership.domain.roles import STAFF_ROLES, Role, Staff
from weft_shared.errors import Conflict, Forbidden


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class Viewer:
    """What one caller is to one community."""

    user_id: str
    status: MemberStatus | None  # of their membership document, if any
    role: Role | None  # only for active members
    conduct_version_accepted: int | None = None

    @property
    def is_member(self) -> bool:
        return self.status is MemberStatus.ACTIVE

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER


def viewer_of(community: dict[str, Any], user_id: str, membership: dict[str, Any] | None) -> Viewer:
    status = status_of(membership)
    role = Staff.of(community).role_of(user_id) if status is MemberStatus.ACTIVE else None
    accepted = membership.get("coc_version_accepted") if membership else None
    return Viewer(user_id=user_id, status=status, role=role, conduct_version_accepted=accepted)


def member_viewer(community: dict[str, Any], user_id: str) -> Viewer:
    """An active member, known to be one without reading their membership."""
    return Viewer(user_id=user_id, status=MemberStatus.ACTIVE, role=Staff.of(community).role_of(user_id))


def can_know_exists(community: dict[str, Any], viewer: Viewer) -> bool:
    """Hidden communities don't exist for outsiders (404 everywhere)."""
    return community["visibility"] != Visibility.HIDDEN or viewer.is_member


def can_see_details(community: dict[str, Any], viewer: Viewer) -> bool:
    """Description, code of conduct, members, links: public to all, else members only."""
    return community["visibility"] == Visibility.PUBLIC or viewer.is_member


def require_details(community: dict[str, Any], viewer: Viewer) -> None:
    if not can_see_details(community, viewer):
        raise Forbidden("only members can see this community's details")


def require_staff(viewer: Viewer) -> None:
    if not viewer.is_staff:
        raise Forbidden("only the community's owners and facilitators can do this")


def require_owner(viewer: Viewer) -> None:
    if not viewer.is_owner:
        raise Forbidden("only the community's owners can do this")


def require_open(community: dict[str, Any]) -> None:
    if community.get("archived"):
        raise Conflict("the community is archived and read-only")
