"""Roles, and the rule that a community always keeps at least one owner.

Staff roles live on the community document (`owners`, `facilitators`); every
other active member is a plain member. Whoever is staff is an active member: a
membership that ends drops its staff role in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from weft_shared.errors import Conflict


class Role(StrEnum):
    OWNER = "owner"
    FACILITATOR = "facilitator"
    MEMBER = "member"


STAFF_ROLES = (Role.OWNER, Role.FACILITATOR)


@dataclass(frozen=True, slots=True)
class Staff:
    """A community's owners and facilitators."""

    owners: tuple[str, ...]
    facilitators: tuple[str, ...]

    @classmethod
    def of(cls, community: dict[str, Any]) -> Staff:
        return cls(tuple(community.get("owners", ())), tuple(community.get("facilitators", ())))

    def role_of(self, user_id: str) -> Role:
        if user_id in self.owners:
            return Role.OWNER
        if user_id in self.facilitators:
            return Role.FACILITATOR
        return Role.MEMBER

    def with_role(self, user_id: str, role: Role, *, refusal: str) -> Staff:
        """The staff after `user_id` takes `role`; refused (409, `refusal`) if no owner would remain."""
        owners = [u for u in self.owners if u != user_id]
        facilitators = [u for u in self.facilitators if u != user_id]
        if role is Role.OWNER:
            owners.append(user_id)
        elif role is Role.FACILITATOR:
            facilitators.append(user_id)
        if not owners:
            raise Conflict(refusal)
        return Staff(tuple(owners), tuple(facilitators))

    def fields(self) -> dict[str, list[str]]:
        return {"owners": list(self.owners), "facilitators": list(self.facilitators)}
