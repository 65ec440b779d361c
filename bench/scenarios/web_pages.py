"""Web pages: server time of the community About page, its members page and a member's home
page, through the web app (`weft web` in front of the gateway), in a community of 1,000 members.

The community is created and its 999 other members join through the API (straight to
membership, untimed); the reader signs in on the web app's dev sign-in page, as a person
would, and joins through the gateway. Each page is then fetched one request at a time with
httpx (the web process's server time, no queueing), after a warm-up, as that member.
Target: p95 <= 150 ms per page.
"""

from __future__ import annotations

import re
import secrets
import time
from contextlib import ExitStack

import httpx
from harness.loadgen import Result
from harness.runner import Harness, Outcome, Row
from harness.stack import OutputLog, start_service
from harness.stats import percentile_ms

from weft_web.auth.dev_people import dev_subject

NAME = "web_pages"
TITLE = "web pages (About, members, home) in a 1,000-member community"
BASELINE = False
MEMBERS = 1_000
WARMUP = 20  # requests per page before measuring
SAMPLES = 200  # measured requests per page, one at a time
TARGET_P95_MS = 150.0
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def signed_in(web_url: str, name: str, email: str) -> httpx.AsyncClient:
    """A browser-like client signed in through the dev sign-in form (its cookie kept)."""
    client = httpx.AsyncClient(base_url=web_url, timeout=30, follow_redirects=False)
    form = await client.get("/sign-in")
    token = _CSRF.search(form.text)
    if token is None:
        raise RuntimeError(f"GET /sign-in answered {form.status_code} without a CSRF token")
    answer = await client.post("/sign-in/dev", data={"name": name, "email": email, "csrf_token": token.group(1)})
    if answer.status_code != 303:
        raise RuntimeError(f"POST /sign-in/dev answered {answer.status_code}: {answer.text[:300]}")
    return client


async def timed(client: httpx.AsyncClient, path: str) -> list[float]:
    """Seconds per request, sequential, after WARMUP untimed ones; every answer must be a 200."""
    samples: list[float] = []
    for i in range(WARMUP + SAMPLES):
        started = time.perf_counter()
        response = await client.get(path)
        took = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        if i >= WARMUP:
            samples.append(took)
    return samples


async def run(h: Harness) -> Outcome:
    outcome = Outcome(NAME, TITLE)
    with ExitStack() as exits:
        env = {
            **h.stack.service_env,
            "WEFT_WEB_GATEWAY_URL": h.stack.gateway.url,
            "WEFT_WEB_DATABASE": f"weft_web_bench_{secrets.token_hex(4)}",
        }
        web = start_service(exits, "web", env, OutputLog(verbose=False))
        h.stack.pids["web"] = web.pid
        h.log(f"  web: {web.url} (pid {web.pid})")

        owner = h.tokens.mint(f"web-owner-{secrets.token_hex(3)}")
        community_id = await h.api.create_community(h.stack.gateway.url, owner, f"Web bench {secrets.token_hex(3)}")
        members = await h.join_members(community_id, "webm", MEMBERS - 2)
        email = f"reader-{secrets.token_hex(4)}@bench.example.org"
        client = await signed_in(web.url, "Bench Reader", email)
        status, answer = await h.api.call(
            "POST", f"{h.stack.gateway.url}/v1/communities/{community_id}/members", h.tokens.mint(dev_subject(email))
        )
        if status != 201:
            raise RuntimeError(f"the reader's join answered {status}: {str(answer)[:300]}")
        count = await h.api.member_count(h.stack.gateway.url, community_id, owner)
        outcome.details.append(f"community of {count} active members ({len(members.user_ids)} joined for the bench)")
        try:
            for label, path in (
                ("About page", f"/communities/{community_id}"),
                ("members page", f"/communities/{community_id}/members"),
                ("home page", "/"),
            ):
                h.log(f"  {label} ...")
                samples = await timed(client, path)
                result = Result(requests=len(samples), elapsed=sum(samples), latencies=samples, client="httpx")
                outcome.rows.append(Row(f"web {label}, sequential", result))
                p50, p95, p99 = (percentile_ms(samples, p) for p in (50, 95, 99))
                verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
                outcome.details.append(
                    f"{label} ({path.replace(community_id, '{id}')}): p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
                    f"p99 {p99:.1f} ms over {len(samples)} requests; target p95 <= {TARGET_P95_MS:.0f} ms {verdict}"
                )
        finally:
            await client.aclose()
            h.stack.pids.pop("web", None)
    return outcome
