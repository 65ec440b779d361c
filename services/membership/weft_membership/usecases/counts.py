"""Active-member counts for community pages, cached briefly.

Why: on MongoDB the count is an index scan, but FerretDB's SQLite backend scans
the whole memberships collection for it, and every page view would pay that.
Changes made through this process invalidate a count at once; changes made by
another replica show within `ttl_seconds`.
"""

from __future__ import annotations

import time

from weft_membership.repository import Repository


class MemberCounts:
    def __init__(self, repo: Repository, *, ttl_seconds: float = 5.0, max_entries: int = 10_000) -> None:
        self._repo = repo
        self._ttl = ttl_seconds
        self._max = max_entries
        self._cache: dict[str, tuple[float, int]] = {}

    async def get(self, community_id: str) -> int:
        hit = self._cache.get(community_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        count = await self._repo.count_active(community_id)
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[community_id] = (time.monotonic() + self._ttl, count)
        return count

    def invalidate(self, community_id: str) -> None:
        self._cache.pop(community_id, None)
