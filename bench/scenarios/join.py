"""Join: `POST /v1/communities/{id}/members` through the gateway, then straight to membership.

Every request is a new user (a fresh token, minted before the window) joining an open
community, so every one is a real write plus a `member.joined` message to JetStream. Each of
the two runs has a community of its own, so both start from the same state. Tokens for the
warm-up are minted from a generous guess of the rate, those for the window from twice the
rate the warm-up reached; if they run out, the table says so. Afterwards, once the events
service has consumed the joins, the 201s are checked against the API's member count and the
messages on the stream.
"""

from __future__ import annotations

import time

from harness import loadgen
from harness.runner import Harness, Outcome, Row, cpu_us, pool_size

NAME = "join"
TITLE = "join via gateway, and direct"
BASELINE = True
TARGET = 0.05  # via the gateway, as a share of the baseline's req/s
WARM_GUESS = 500.0  # joins/s assumed for sizing the warm-up's tokens (more than any join rate seen)


async def run(h: Harness) -> Outcome:
    services = h.stack
    outcome = Outcome(NAME, TITLE)
    for label, tag, port, target in (
        ("join via gateway", "gw", services.gateway.port, TARGET),
        ("join direct (for attribution)", "direct", services.membership.port, None),
    ):
        row, check = await join_window(h, label, tag, port, target)
        outcome.rows.append(row)
        outcome.details.append(check)
    gw, direct = outcome.rows
    if gw.result.rps > 0 and direct.result.rps > 0:
        outcome.hints.append(
            f"join: via the gateway {100 * gw.result.rps / direct.result.rps:.0f} % of direct; per join "
            f"membership spends {cpu_us(direct, 'membership')}, the database {cpu_us(direct, 'database')}, "
            f"the events service (consuming member.joined) {cpu_us(direct, 'events')} and nats "
            f"{cpu_us(direct, 'nats')} of CPU (direct run)."
        )
    return outcome


async def join_window(h: Harness, label: str, tag: str, port: int, target: float | None) -> tuple[Row, str]:
    """Warm-up and window of joins to `port`, in a new community; the row and a check line."""
    gateway_url, membership_url = h.stack.gateway.url, h.stack.membership.url
    h.log(f"  {label} ...")
    owner = h.tokens.mint(f"bench-owner-join-{tag}")
    community_id = await h.api.create_community(gateway_url, owner, f"Bench join community {tag}")
    subject = h.bus.subject("member.joined", community_id)
    await h.bus.caught_up()
    messages_before = await h.bus.count(subject)
    expected = frozenset({201})
    answered = 0
    warm_rps = WARM_GUESS
    if h.args.warmup > 0:
        warm_pool = h.join_requests(port, community_id, f"bench-{tag}-warm", pool_size(h.args.warmup, WARM_GUESS, 0))
        warm, _ = await h.closed_loop(port, loadgen.one_shot(iter(warm_pool)), expected, warmup=0, measure=False)
        answered += warm.requests
        warm_rps = warm.rps if warm.rps > 0 else WARM_GUESS
    minted = time.perf_counter()
    pool = h.join_requests(
        port, community_id, f"bench-{tag}-join", pool_size(h.args.duration, 2 * warm_rps, h.concurrency)
    )
    h.log(f"    minted {len(pool):,} fresh-user tokens in {time.perf_counter() - minted:.1f} s (before the window)")
    result, cpu = await h.closed_loop(port, loadgen.one_shot(iter(pool)), expected, warmup=0)
    answered += result.requests
    note = f"the {len(pool):,} minted users ran out after {result.elapsed:.1f} s" if result.exhausted else ""
    # The events service consumes every join; let it finish before the next scenario, then check.
    caught_up = await h.bus.caught_up()
    messages = await h.bus.count(subject) - messages_before
    members = await h.api.member_count(membership_url, community_id, owner)
    check = (
        f"{label}: {answered:,} joins answered 201 (warm-up and window); the API counts {members} members "
        f"(the owner too); {messages:,} member.joined messages on the stream"
        + ("" if caught_up else "; the events service's consumer still had a backlog afterwards")
    )
    return Row(label, result, cpu, target, note), check
