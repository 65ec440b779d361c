"""Authenticated read: `GET /v1/communities/{id}` through the gateway, then straight to membership.

Community of one member (its owner), read by `--concurrency` different users, one per
connection (tokens minted beforehand). Through the gateway the request is verified and
rate-limited there, forwarded over its pooled client, verified again by membership, which
reads the community and the caller's membership and counts the members (cached briefly).
"""

from __future__ import annotations

from harness.runner import Harness, Outcome, cpu_us

NAME = "read"
TITLE = "GET community via gateway, and direct"
BASELINE = True
TARGET = 0.25  # via the gateway, as a share of the baseline's req/s


async def run(h: Harness) -> Outcome:
    services = h.stack
    owner = h.tokens.mint("bench-owner-read")
    community_id = await h.api.create_community(services.gateway.url, owner, "Bench read community")
    readers = [h.tokens.mint(f"bench-reader-{i}") for i in range(h.concurrency)]
    path = f"/v1/communities/{community_id}"
    via_gateway = await h.get_row("GET community via gateway", services.gateway.port, path, readers, TARGET)
    direct = await h.get_row("GET community direct", services.membership.port, path, readers)
    outcome = Outcome(NAME, TITLE, rows=[via_gateway, direct])
    g, d = via_gateway.result, direct.result
    if g.rps > 0 and d.rps > 0:
        outcome.hints.append(
            f"read: the gateway hop keeps {100 * g.rps / d.rps:.0f} % of the direct throughput and adds "
            f"{g.p50_ms - d.p50_ms:+.2f} ms at p50; per request the gateway process spends "
            f"{cpu_us(via_gateway, 'gateway')} of CPU and membership {cpu_us(via_gateway, 'membership')} "
            f"(direct: {cpu_us(direct, 'membership')})."
        )
    if h.baseline is not None and h.baseline.result.rps > 0 and d.rps > 0:
        outcome.hints.append(
            f"membership alone serves the read at {100 * d.rps / h.baseline.result.rps:.0f} % of the bare "
            f"/ping's rate; per request the baseline server spends {cpu_us(h.baseline, 'baseline')} of CPU, "
            f"membership {cpu_us(direct, 'membership')} (FastAPI, auth, database round trips, pydantic) and "
            f"the database {cpu_us(direct, 'database')}."
        )
    return outcome
