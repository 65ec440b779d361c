"""Webhook delivery: 100 endpoints subscribed to one community, then its members joining.

Its own `weft notifications` process (its own database and durable consumer; the allowlist
lets it reach 127.0.0.1), and 100 endpoints: distinct URLs on one aiohttp server in the
bench's process, each answering 200 at once and stamping each arrival with the bench's
clock. First one member joins (`POST /v1/communities/{id}/members`, straight to membership):
the time from sending that join (and from its `member.joined` reaching the bench over a core
NATS subscription) until all 100 endpoints have that message.
Then `--webhook-messages` more join, 8 at a time: deliveries per second, from the first of
those joins sent until the last endpoint has the last message. It also counts what arrived
twice (the same `webhook-id` at one endpoint: none expected, nothing was retried).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from aiohttp import web
from harness.runner import Harness, Outcome
from harness.stack import drop_databases

from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess

if TYPE_CHECKING:
    from nats.aio.msg import Msg

NAME = "webhook_delivery"
TITLE = "webhook delivery to 100 endpoints"
BASELINE = False
ENDPOINTS = 100
JOINING_AT_ONCE = 8
LEARN_TIMEOUT = 60.0
DELIVERY_TIMEOUT = 120.0


@dataclass
class Endpoints:
    """What each endpoint received: (webhook-id, the joiner's user id, arrival time)."""

    arrivals: dict[int, list[tuple[str, str, float]]] = field(default_factory=lambda: defaultdict(list))
    port: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{n}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        user = str(body.get("data", {}).get("user_id", ""))
        self.arrivals[int(request.match_info["n"])].append((request.headers["webhook-id"], user, time.perf_counter()))
        self.changed.set()
        return web.Response(text="ok")

    def last_arrival_of(self, users: set[str]) -> float | None:
        """When the last endpoint got the last of these users' messages; None while any is missing."""
        latest = 0.0
        for n in range(ENDPOINTS):
            seen = {user: at for _, user, at in self.arrivals.get(n, [])}
            if not users <= seen.keys():
                return None
            latest = max(latest, *(seen[u] for u in users))
        return latest

    async def wait_for(self, users: set[str], timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        while (done := self.last_arrival_of(users)) is None:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                got = sum(1 for n in range(ENDPOINTS) for _, u, _ in self.arrivals.get(n, []) if u in users)
                raise TimeoutError(f"{got} of {len(users) * ENDPOINTS} deliveries arrived in {timeout:g} s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 1.0))
        return done

    def duplicates(self) -> int:
        return sum(len(got) - len({w for w, _, _ in got}) for got in self.arrivals.values())


async def run(h: Harness) -> Outcome:
    endpoints = Endpoints()
    await endpoints.start()
    suffix = secrets.token_hex(4)
    database = f"weft_notifications_bench_{suffix}"
    env = {
        **h.stack.service_env,
        "WEFT_NOTIFICATIONS_DATABASE": database,
        "WEFT_NOTIFICATIONS_CONSUMER_NAME": f"notifications-bench-{suffix}",
        "WEFT_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS": json.dumps(["127.0.0.1/32"]),
        "WEFT_NOTIFICATIONS_WEBHOOK_POLL_INTERVAL_SECONDS": "0.05",
        "WEFT_NOTIFICATIONS_WEBHOOK_CONCURRENCY": str(ENDPOINTS),
    }
    service = ServiceProcess("notifications", env, free_port())
    try:
        await asyncio.to_thread(service.start)
        h.log(f"  notifications: {service.url} (pid {service.pid})")
        return await _measure(h, service, endpoints)
    finally:
        await asyncio.to_thread(service.stop)
        await endpoints.stop()
        await asyncio.to_thread(drop_databases, h.stack.database.url, [database])


async def _measure(h: Harness, service: ServiceProcess, endpoints: Endpoints) -> Outcome:
    membership = h.stack.membership.url
    _, owner = h.tokens.fresh_user("hookowner")
    community_id = await h.api.create_community(membership, owner, "Webhook bench")
    hooks = f"{service.url}/v1/communities/{community_id}/webhooks"

    deadline = time.perf_counter() + LEARN_TIMEOUT
    while (await h.api.call("GET", hooks, owner))[0] != 200:
        if time.perf_counter() > deadline:
            raise TimeoutError("notifications did not learn the community's owner")
        await asyncio.sleep(0.2)
    for n in range(ENDPOINTS):
        body = {"url": f"http://127.0.0.1:{endpoints.port}/hook/{n}", "types": ["org.weft.member.joined.v1"]}
        status, answer = await h.api.call("POST", hooks, owner, body)
        if status != 201:
            raise RuntimeError(f"creating webhook {n} answered {status}: {answer}")

    async def join() -> str:
        user, token = h.tokens.fresh_user("hookjoiner")
        status, answer = await h.api.call("POST", f"{membership}/v1/communities/{community_id}/members", token)
        if status not in (200, 201):
            raise RuntimeError(f"join answered {status}: {answer}")
        return user

    on_bus: dict[str, float] = {}

    async def stamp(msg: Msg) -> None:
        on_bus.setdefault(str(orjson.loads(msg.data)["data"]["user_id"]), time.perf_counter())

    subject = f"{h.bus.prefix}.member.joined.v1.{community_id}"
    subscription = await h.bus.nc.subscribe(subject, cb=stamp)
    try:
        sent = time.perf_counter()
        first = await join()
        last = await endpoints.wait_for({first}, DELIVERY_TIMEOUT)
    finally:
        await subscription.unsubscribe()
    to_all = last - sent
    from_bus = last - on_bus[first] if first in on_bus else float("nan")

    messages = h.args.webhook_messages
    gate = asyncio.Semaphore(JOINING_AT_ONCE)

    async def gated_join() -> str:
        async with gate:
            return await join()

    started = time.perf_counter()
    users = set(await asyncio.gather(*(gated_join() for _ in range(messages))))
    joins_done = time.perf_counter() - started
    elapsed = await endpoints.wait_for(users, DELIVERY_TIMEOUT) - started
    delivered = messages * ENDPOINTS
    details = [
        f"one message to all {ENDPOINTS} endpoints: {to_all * 1000:,.0f} ms from the join sent to the last arrival "
        f"({from_bus * 1000:,.0f} ms from its member.joined on the bus)",
        f"{messages} messages x {ENDPOINTS} endpoints = {delivered:,} deliveries in {elapsed:.2f} s: "
        f"{delivered / elapsed:,.0f} deliveries/s (the joins themselves took {joins_done:.2f} s)",
        f"duplicates (one webhook-id twice at one endpoint): {endpoints.duplicates()}",
    ]
    for line in details:
        h.log(f"  {line}")
    return Outcome(NAME, TITLE, details=details)
