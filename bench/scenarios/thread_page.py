"""Thread page: p95 of `GET /v1/threads/{id}/replies?limit=50` through the gateway, in a
thread of 1,000 replies (`--thread-replies`), against one of 100.

Both threads are started and replied to through the API (straight to the resources
service, untimed): every reply takes the thread's next position and bumps its counters in
one transaction, as a member's would. Each reply quotes the one before it, so every page
also reads its quoted replies (the excerpts). Two pages per thread: the first, and the
page after the first 500 replies (for the 100-reply thread, its second page); the reader is
a member, so the membership view, the thread, the page, the quotes and the reader's
reactions are read per request.
"""

from __future__ import annotations

import asyncio
import time

from harness.runner import Comparison, Harness, Outcome, Row

NAME = "thread_page"
TITLE = "thread page of 50 replies at 1,000 replies vs 100"
BASELINE = False
SMALL = 100
LIMIT = 50
DEPTH = 500  # the deeper page starts after this many replies
LEARN_BUDGET = 60.0  # seconds at most for resources to learn the community (setup)
IN_FLIGHT = 4  # replies posted at once while seeding
WALK_LIMIT = 100  # the page size for walking to the deeper cursor (the API's largest)


async def started_thread(h: Harness, owner: str, community_id: str, title: str) -> str:
    """Start a thread once the resources service knows the owner (it learns from membership's messages)."""
    url = f"{h.stack.resources.url}/v1/communities/{community_id}/threads"
    body = {"kind": "discussion", "title": title, "body": "How do you hand over at night?"}
    deadline = time.perf_counter() + LEARN_BUDGET
    while True:
        status, answer = await h.api.call("POST", url, owner, body)
        if status == 201:
            return str(answer["id"])
        if time.perf_counter() > deadline:
            raise RuntimeError(f"POST {url} answered {status}: {str(answer)[:300]}")
        await asyncio.sleep(0.25)


async def seed_replies(h: Harness, owner: str, thread_id: str, count: int) -> float:
    """Post `count` replies, each quoting the previous one; the seconds it took."""
    url = f"{h.stack.resources.url}/v1/threads/{thread_id}/replies"
    started = time.perf_counter()
    previous: str | None = None
    posted = 0
    while posted < count:
        batch = min(IN_FLIGHT, count - posted)
        bodies = [
            {"body": f"Reply {posted + i + 1}: we use SBAR and a checklist.", "quotes_reply_id": previous}
            for i in range(batch)
        ]
        answers = await asyncio.gather(*(h.api.call("POST", url, owner, body) for body in bodies))
        for status, answer in answers:
            if status != 201:
                raise RuntimeError(f"POST {url} answered {status}: {str(answer)[:300]}")
        previous = str(answers[-1][1]["id"])
        posted += batch
    return time.perf_counter() - started


async def cursor_after(h: Harness, owner: str, thread_id: str, skip: int) -> str | None:
    """The API's own cursor for the page after the first `skip` replies (walked in pages of
    WALK_LIMIT, the API's largest)."""
    cursor: str | None = None
    skipped = 0
    while skipped < skip:
        limit = min(WALK_LIMIT, skip - skipped)
        url = f"{h.stack.resources.url}/v1/threads/{thread_id}/replies?limit={limit}"
        status, page = await h.api.call("GET", url + (f"&cursor={cursor}" if cursor else ""), owner)
        if status != 200 or not page.get("next_cursor"):
            raise RuntimeError(f"GET {url} answered {status}: {str(page)[:300]}")
        skipped += limit
        cursor = str(page["next_cursor"])
    return cursor


async def run(h: Harness) -> Outcome:
    gateway = h.stack.gateway
    large = h.args.thread_replies
    outcome = Outcome(NAME, f"thread page of {LIMIT} replies at {large:,} replies vs {SMALL:,}")
    owner = h.tokens.mint("bench-owner-threads")
    community_id = await h.api.create_community(gateway.url, owner, "Bench threads community")
    first_rows: list[Row] = []
    deep_rows: list[Row] = []
    for size in (SMALL, large):
        thread_id = await started_thread(h, owner, community_id, f"Thread of {size} replies")
        h.log(f"  {outcome.title}: posting {size:,} replies ...")
        seconds = await seed_replies(h, owner, thread_id, size)
        outcome.details.append(
            f"setup (untimed): {size:,} replies posted through the API, {IN_FLIGHT} at a time, in {seconds:.1f} s "
            f"({size / max(seconds, 1e-9):.0f} replies/s on one thread)."
        )
        path = f"/v1/threads/{thread_id}/replies?limit={LIMIT}"
        readers = [owner] * h.concurrency
        first_rows.append(await h.get_row(f"thread page, {size:,} replies: first 50", gateway.port, path, readers))
        depth = min(DEPTH, size - LIMIT)
        cursor = await cursor_after(h, owner, thread_id, depth)
        deep_rows.append(
            await h.get_row(
                f"thread page, {size:,} replies: 50 after {depth:,}", gateway.port, f"{path}&cursor={cursor}", readers
            )
        )
    outcome.rows += [*first_rows, *deep_rows]
    for what, (small, big) in (("first page", first_rows), ("deeper page", deep_rows)):
        outcome.comparisons.append(
            Comparison(
                f"thread page, {large:,} vs {SMALL:,} replies, {what}: p95",
                "ms",
                small.result.p95_ms,
                big.result.p95_ms,
                higher_is_better=False,
            )
        )
    big = deep_rows[-1].result
    outcome.details.append(
        f"a page of {LIMIT} replies of the {large:,}-reply thread: p95 {big.p95_ms:.1f} ms at {big.rps:.0f} req/s "
        f"({h.concurrency} connections)."
    )
    return outcome
