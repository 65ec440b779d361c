"""Does the time of a refusal tell what a 404 hides? Issue 7 item 13: an outsider's
`GET /v1/communities/{id}` of a hidden community (404) against the same request for an id
that does not exist (404), and against a refusal the caller may see (403: the members of a
private community), all through the gateway, each connection a different outsider.

The two 404s should take the same time (the hidden one reads the community and the
caller's membership; the missing one reads only the community); the 403 is shown for scale.
Printed, never asserted (the test suite asserts that the bodies are byte-identical).
"""

from __future__ import annotations

from harness import loadgen
from harness.api import bearer
from harness.runner import Harness, Outcome, Row

NAME = "not_found_timing"
TITLE = "404 (hidden) vs 404 (missing) vs 403, outsiders via the gateway"
BASELINE = False


async def _row(h: Harness, label: str, path: str, tokens: list[str], status: int) -> Row:
    h.log(f"  {label} ...")
    port = h.stack.gateway.port
    requests = [loadgen.http_request(port, "GET", path, [bearer(t)]) for t in tokens]
    result, cpu = await h.closed_loop(port, loadgen.cycle_per_worker(requests), frozenset({status}))
    return Row(label, result, cpu)


async def run(h: Harness) -> Outcome:
    gateway = h.stack.gateway.url
    owner = h.tokens.mint("bench-owner-not-found")
    hidden = await h.api.create_community(gateway, owner, "Bench hidden community")
    private = await h.api.create_community(gateway, owner, "Bench private community")
    for community_id, visibility in ((hidden, "hidden"), (private, "private")):
        status, answer = await h.api.call(
            "PATCH", f"{gateway}/v1/communities/{community_id}", owner, {"visibility": visibility}
        )
        if status != 200:
            raise RuntimeError(f"PATCH visibility answered {status}: {answer}")
    missing = "f" * len(hidden)
    outsiders = [h.tokens.mint(f"bench-outsider-{i}") for i in range(h.concurrency)]
    rows = [
        await _row(h, "404 hidden community", f"/v1/communities/{hidden}", outsiders, 404),
        await _row(h, "404 missing community", f"/v1/communities/{missing}", outsiders, 404),
        await _row(h, "403 private community's members", f"/v1/communities/{private}/members", outsiders, 403),
    ]
    outcome = Outcome(NAME, TITLE, rows=rows)
    hidden_row, missing_row, forbidden_row = (r.result for r in rows)
    outcome.details.append(
        "404 hidden vs 404 missing: p50 "
        f"{hidden_row.p50_ms:.2f} vs {missing_row.p50_ms:.2f} ms ({hidden_row.p50_ms - missing_row.p50_ms:+.2f}), "
        f"p99 {hidden_row.p99_ms:.2f} vs {missing_row.p99_ms:.2f} ms; 403: p50 {forbidden_row.p50_ms:.2f} ms, "
        f"p99 {forbidden_row.p99_ms:.2f} ms"
    )
    return outcome
