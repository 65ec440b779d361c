"""Network admins: who may manage what belongs to the whole network (e.g. network webhooks).

Two ways to be one, both configured by the operator: the token carries `role` in the
claim `claim` (a dotted path reaches into nested claims, as identity providers nest
them: Keycloak's `realm_access.roles`), or the token's subject is listed in `subjects`
(a small network with no roles in its identity provider).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from weft_shared.auth.tokens import Principal


@dataclass(frozen=True, slots=True)
class NetworkAdmins:
    claim: str = "roles"
    role: str = "weft-admin"
    subjects: frozenset[str] = frozenset()

    @classmethod
    def of(cls, claim: str, role: str, subjects: Iterable[str]) -> NetworkAdmins:
        return cls(claim=claim, role=role, subjects=frozenset(subjects))

    def includes(self, principal: Principal) -> bool:
        if principal.sub in self.subjects:
            return True
        held = _claim_at(principal.claims, self.claim)
        # A role claim is a list of names, or (some providers) one space-separated string.
        if isinstance(held, str):
            return self.role in held.split()
        if isinstance(held, list):
            return self.role in [r for r in held if isinstance(r, str)]
        return False


def _claim_at(claims: Any, path: str) -> Any:
    value = claims
    for part in path.split("."):
        if not hasattr(value, "get"):
            return None
        value = value.get(part)
    return value
