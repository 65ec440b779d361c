"""Member list at scale: p95 of `GET /v1/communities/{id}/members?limit=50` in a community of
100,000 members against one of 1,000.

Both communities are created through the API (their owner is the first member). Joining
100,000 people through the API would take too long here, so the members are written straight
into membership's database (`seed_memberships_directly`, bench only). Measured through the
gateway with `--members-concurrency` connections (4) and a request timeout of at least 30 s,
so that a page that is slow at scale is measured rather than queued behind 15 others past
the timeout; each connection is a different seeded member. Two pages per community:

- the first page (no cursor);
- the page after the first `--members-depth` members (500: the 11th page), the same position in
  both communities, with the cursor the API itself handed out: the bench walks there first
  (pages of 100 straight to membership, untimed, bounded in time). The same position keeps
  everything but the community's size equal; it is half way down the small community.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from harness.runner import Comparison, Harness, Outcome, Row
from pymongo import MongoClient

NAME = "members_scale"
TITLE = "member list at 100,000 members vs 1,000"
BASELINE = False
SMALL = 1_000
LIMIT = 50  # the page size measured
WALK_LIMIT = 100  # the page size for walking to the deep cursor (the API's maximum)
WALK_BUDGET = 60.0  # seconds at most for walking to one deeper cursor (setup, untimed)
BATCH = 5_000  # documents per insert_many
REQUEST_TIMEOUT = 30.0  # per request in these windows (at least): a slow page is measured, not dropped


def seed_memberships_directly(
    url: str, database: str, community_id: str, user_ids: list[str], batch: int = BATCH
) -> float:
    """BENCH ONLY: write active memberships (and their users) straight into membership's database,
    bypassing the API, its transactions, its outbox and its messages; returns the seconds it took.

    This couples the bench to membership's storage shape, as written by
    services/membership/weft_membership/storage/ (`memberships.py`, `people.py`,
    `member_counts.py`) for an open join (usecases/members.py): collection `memberships`,
    `_id` = "<community_id>:<user_id>", `community_id`, `user_id`, `status` "active", `via`
    "open", `joined_at`; collection `users`, `_id` = user id, `display_name` (which the member
    list shows) and the other fields of a first sight; and the active-member counter in
    `member_counts` (`{community_id, n}` documents summed per community), raised by the number
    written. No message is published, so no other service hears of these members (the member
    list does not need them to). If that shape changes, change this function with it.
    """
    client: MongoClient[dict[str, Any]] = MongoClient(url, serverSelectionTimeoutMS=5000, tz_aware=True)
    started = time.perf_counter()
    try:
        db = client[database]
        for at in range(0, len(user_ids), batch):
            chunk = user_ids[at : at + batch]
            joined_at = datetime.now(UTC)
            db.users.insert_many(
                [
                    {
                        "_id": user_id,
                        "display_name": f"Bench {user_id}",
                        "email": f"{user_id}@bench.example.org",
                        "bio": "",
                        "organisation": "",
                        "expertise": [],
                        "interests": [],
                        "expertise_terms": [],
                        "search_terms": [],
                        "created_at": joined_at,
                    }
                    for user_id in chunk
                ],
                ordered=False,
            )
            db.memberships.insert_many(
                [
                    {
                        "_id": f"{community_id}:{user_id}",
                        "community_id": community_id,
                        "user_id": user_id,
                        "status": "active",
                        "via": "open",
                        "joined_at": joined_at,
                    }
                    for user_id in chunk
                ],
                ordered=False,
            )
            db.member_counts.update_one(
                {"_id": f"{community_id}:bench-seed"},
                {"$inc": {"n": len(chunk)}, "$setOnInsert": {"community_id": community_id}},
                upsert=True,
            )
    finally:
        client.close()
    return time.perf_counter() - started


async def walk_to(h: Harness, community_id: str, token: str, skip: int) -> tuple[str | None, int, float]:
    """The API's cursor for the page after the first `skip` members, walking pages of WALK_LIMIT
    straight to membership; (cursor, members skipped, seconds). Bounded by WALK_BUDGET."""
    started = time.perf_counter()
    base = f"{h.stack.membership.url}/v1/communities/{community_id}/members"
    cursor: str | None = None
    skipped = 0
    while skipped < skip and time.perf_counter() - started < WALK_BUDGET:
        limit = min(WALK_LIMIT, skip - skipped)
        url = f"{base}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, page = await h.api.call("GET", url, token)
        if status != 200 or not page.get("next_cursor"):
            raise RuntimeError(f"walking the member list: GET {url} answered {status}: {str(page)[:300]}")
        skipped += len(page["items"])
        cursor = page["next_cursor"]
    return cursor, skipped, time.perf_counter() - started


async def run(h: Harness) -> Outcome:
    services = h.stack
    gateway = services.gateway
    large = h.args.members_large
    outcome = Outcome(NAME, f"member list at {large:,} members vs {SMALL:,}")
    lines = outcome.details
    owner = h.tokens.mint("bench-owner-members")
    cases: list[tuple[int, str, list[str]]] = []
    for size in (SMALL, large):
        community_id = await h.api.create_community(gateway.url, owner, f"Bench members community {size}")
        user_ids = [f"bench-m{size}-{i:06d}" for i in range(size)]
        h.log(f"  {outcome.title}: writing {size:,} memberships straight into membership's database ...")
        seconds = await asyncio.to_thread(
            seed_memberships_directly, services.database.url, services.membership_database, community_id, user_ids
        )
        rate = 2 * size / max(seconds, 1e-9)
        lines.append(
            f"setup (untimed): {size:,} memberships and users written straight into membership's database "
            f"(insert_many, batches of {BATCH:,}) in {seconds:.1f} s ({rate:,.0f} documents/s)."
        )
        cases.append((size, community_id, user_ids))

    depth = h.args.members_depth
    conc = h.args.members_concurrency
    timeout = max(h.args.request_timeout, REQUEST_TIMEOUT)
    lines.append(
        f"windows with {conc} connections (--members-concurrency), each a different seeded member, and a "
        f"request timeout of {timeout:g} s."
    )
    first_rows: list[Row] = []
    deep_rows: list[Row] = []
    for size, community_id, user_ids in cases:
        path = f"/v1/communities/{community_id}/members?limit={LIMIT}"
        status, page = await h.api.call("GET", f"{gateway.url}{path}", owner)
        items = len(page.get("items", [])) if status == 200 else 0
        counted = await h.api.member_count(services.membership.url, community_id, owner)
        lines.append(
            f"{size:,} members: GET ...?limit={LIMIT} answered {status} with {items} items"
            + (" and a next cursor" if status == 200 and page.get("next_cursor") else "")
            + f"; the API counts {counted} members (the owner too)."
        )
        readers = [h.tokens.mint(user_ids[i * (size // conc)]) for i in range(conc)]
        first_rows.append(
            await h.get_row(
                f"member list, {size:,} members: first page",
                gateway.port,
                path,
                readers,
                concurrency=conc,
                request_timeout=timeout,
            )
        )
        cursor, skipped, walked = await walk_to(h, community_id, owner, depth)
        lines.append(
            f"{size:,} members: walked {skipped:,} members ({walked:.1f} s, pages of {WALK_LIMIT}) for the cursor "
            "of the deeper page."
        )
        deep_rows.append(
            await h.get_row(
                f"member list, {size:,} members: page at {skipped:,}",
                gateway.port,
                f"{path}&cursor={cursor}",
                readers,
                concurrency=conc,
                request_timeout=timeout,
            )
        )
    outcome.rows += [first_rows[0], first_rows[1], deep_rows[0], deep_rows[1]]
    for what, (small, big) in (("first page", first_rows), (f"page at {depth:,}", deep_rows)):
        outcome.comparisons.append(
            Comparison(
                f"member list, {large:,} vs {SMALL:,} members, {what}: p95",
                "ms",
                small.result.p95_ms,
                big.result.p95_ms,
                higher_is_better=False,
            )
        )
    return outcome
