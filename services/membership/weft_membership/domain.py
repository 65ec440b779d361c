"""Membership rules: roles, permissions, visibility. Pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    OWNER = "owner"
    FACILITATOR = "facilitator"
    MEMBER = "member"


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    HIDDEN = "hidden"


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


# A membership document in one of these states may (re)join or (re)request.
REJOINABLE = [MemberStatus.LEFT, MemberStatus.REMOVED, MemberStatus.DECLINED]
STAFF = (Role.OWNER, Role.FACILITATOR)


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
        return self.role in STAFF

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER


def role_in(community: dict[str, Any], user_id: str) -> Role:
    """Staff roles live on the community document (so the ≥1-owner rule is one
    atomic conditional write); every other active member is a plain member."""
    if user_id in community.get("owners", ()):
        return Role.OWNER
    if user_id in community.get("facilitators", ()):
        return Role.FACILITATOR
    return Role.MEMBER


def viewer_of(community: dict[str, Any], user_id: str, membership: dict[str, Any] | None) -> Viewer:
    status = MemberStatus(membership["status"]) if membership else None
    role = role_in(community, user_id) if status is MemberStatus.ACTIVE else None
    accepted = membership.get("coc_version_accepted") if membership else None
    return Viewer(user_id=user_id, status=status, role=role, conduct_version_accepted=accepted)


def can_know_exists(community: dict[str, Any], viewer: Viewer) -> bool:
    """Hidden communities don't exist for outsiders (404 everywhere)."""
    return community["visibility"] != Visibility.HIDDEN or viewer.is_member


def can_see_details(community: dict[str, Any], viewer: Viewer) -> bool:
    """Description, code of conduct, members, links: public to all, else members only."""
    return community["visibility"] == Visibility.PUBLIC or viewer.is_member


def staff_after_role_change(community: dict[str, Any], user_id: str, new_role: Role) -> tuple[list[str], list[str]]:
    owners = [u for u in community.get("owners", []) if u != user_id]
    facilitators = [u for u in community.get("facilitators", []) if u != user_id]
    if new_role is Role.OWNER:
        owners.append(user_id)
    elif new_role is Role.FACILITATOR:
        facilitators.append(user_id)
    return owners, facilitators


_NON_SLUG = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[\w]+", re.UNICODE)
MIN_TERM = 2
MAX_TERM = 20


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "community"


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def search_terms(*texts: str) -> list[str]:
    """Edge n-grams of every word, so 'nurs' finds 'nursing' through a plain
    multikey index (FerretDB has no text indexes)."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            word = word[:MAX_TERM]
            terms.update(word[:n] for n in range(MIN_TERM, len(word) + 1))
    return sorted(terms)


def query_terms(q: str) -> list[str]:
    return sorted({w[:MAX_TERM] for w in words(q) if len(w) >= MIN_TERM})
