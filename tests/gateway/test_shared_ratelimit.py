"""Rate limits shared across gateway replicas through a JetStream key-value bucket.

Two limiters (or two gateway processes) on one real nats-server admit together what one
would; with per-process buckets they would admit twice as much.
"""

from __future__ import annotations

import asyncio
import secrets
import time

import httpx
import nats
import pytest

from tests.conftest import StartService
from tests.support.api import new_person
from tests.support.waiting import eventually
from weft_cli.natsserver import NatsHandle
from weft_cli.testing import ServiceProcess
from weft_gateway.ratelimit import RateLimiter
from weft_gateway.shared_ratelimit import SharedRateLimiter

pytestmark = pytest.mark.timeout(120)


class FrozenClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def replica(bucket: str, clock: FrozenClock, *, per_minute: float = 60, burst: int = 10) -> SharedRateLimiter:
    return SharedRateLimiter(
        per_minute=per_minute,
        burst=burst,
        bucket=bucket,
        local=RateLimiter(per_minute=per_minute, burst=burst),
        lease_tokens=8,
        lease_seconds=30,
        clock=clock,
    )


async def until_shared(*limiters: SharedRateLimiter) -> None:
    async def ready() -> bool | None:
        return all(limiter.shared for limiter in limiters) or None

    await eventually(ready, what="the limiters to open the shared bucket")


async def test_two_replicas_admit_one_burst_between_them(nats_server: NatsHandle) -> None:
    clock = FrozenClock()
    bucket = f"T_{secrets.token_hex(4)}_RATELIMITS"
    a, b = replica(bucket, clock), replica(bucket, clock)
    for limiter in (a, b):
        limiter.start([nats_server.url])
    try:
        await until_shared(a, b)
        answers = [await (a if i % 2 == 0 else b).take("sub:ana") for i in range(30)]
        admitted = [wait is None for wait in answers]
        # The clock stands still: one burst of 10 between both, never 10 each.
        assert sum(admitted) == 10, answers
        assert any(admitted[0::2]) and any(admitted[1::2]), "both replicas admitted some"
        refused = [wait for wait in answers if wait is not None]
        assert all(0 < wait <= 1.0 for wait in refused), refused  # one token a second

        # Another caller has a bucket of its own.
        assert await b.take("sub:ben") is None

        # Time passes for the shared bucket (every replica's clock): 3 tokens come back. A replica
        # remembers a refusal only until the bucket could admit again, so both see them.
        clock.now += 3.0
        await asyncio.sleep(1.05)  # the remembered refusals (monotonic, <= 1 s) run out
        again = [await (a if i % 2 == 0 else b).take("sub:ana") for i in range(10)]
        assert sum(wait is None for wait in again) == 3, again
    finally:
        await a.close()
        await b.close()


async def test_concurrent_requests_of_one_caller_lose_no_tokens(nats_server: NatsHandle) -> None:
    """Requests of one caller arriving together share one lease request: none overwrites
    another's leased tokens, so the whole burst is admitted, and no more."""
    clock = FrozenClock()
    limiter = replica(f"T_{secrets.token_hex(4)}_RATELIMITS", clock, burst=20)
    limiter.start([nats_server.url])
    try:
        await until_shared(limiter)
        answers = await asyncio.gather(*(limiter.take("sub:busy") for _ in range(30)))
    finally:
        await limiter.close()
    assert sum(wait is None for wait in answers) == 20, answers


async def test_keys_in_the_bucket_are_hashes_not_subjects(nats_server: NatsHandle) -> None:
    clock = FrozenClock()
    bucket = f"T_{secrets.token_hex(4)}_RATELIMITS"
    limiter = replica(bucket, clock)
    limiter.start([nats_server.url])
    try:
        await until_shared(limiter)
        assert await limiter.take("sub:ana@example.org") is None
    finally:
        await limiter.close()
    nc = await nats.connect(nats_server.url)
    try:
        keys = await (await nc.jetstream().key_value(bucket)).keys()
    finally:
        await nc.close()
    assert len(keys) == 1 and "ana" not in keys[0] and len(keys[0]) == 32


async def test_without_nats_a_replica_limits_on_its_own() -> None:
    limiter = replica("T_NOWHERE_RATELIMITS", FrozenClock(), burst=2)
    limiter.start(["nats://127.0.0.1:1"])  # nothing listens there
    try:
        assert not limiter.shared
        answers = [await limiter.take("sub:ana") for _ in range(3)]
        assert answers[:2] == [None, None] and answers[2] is not None
    finally:
        await limiter.close()


async def test_two_gateway_processes_share_one_limit(
    start_service: StartService, membership_service: ServiceProcess
) -> None:
    # 6 a minute with a burst of 10: across a few seconds the limit is the burst, plus at most one
    # token every 10 s. Two per-process limits would admit 20.
    env = {
        "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
        "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "6",
        "WEFT_GATEWAY_RATE_LIMIT_BURST": "10",
    }
    gateways = [start_service("gateway", env) for _ in range(2)]

    async def both_shared() -> bool | None:
        return all("rate limits are shared" in g.output(200) for g in gateways) or None

    await eventually(both_shared, what="both gateways to open the shared bucket")
    person = new_person("limited")
    clients = [httpx.AsyncClient(base_url=g.url, timeout=30) for g in gateways]
    try:
        began = time.monotonic()
        statuses: list[tuple[int, int]] = []
        for i in range(30):
            which = i % 2
            response = await clients[which].get("/v1/me", headers=person.headers)
            assert response.status_code in (200, 429), response.text
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
            statuses.append((which, response.status_code))
        elapsed = time.monotonic() - began
    finally:
        for client in clients:
            await client.aclose()
    admitted = sum(status == 200 for _, status in statuses)
    assert admitted <= 10 + int(elapsed // 10) + 1, (admitted, elapsed, statuses)
    assert admitted >= 5, statuses
    assert {which for which, status in statuses if status == 429} == {0, 1}, "both refuse once it is spent"


async def test_bad_and_missing_tokens_spend_the_client_addresses_limit(
    start_service: StartService, membership_service: ServiceProcess
) -> None:
    """Guessing tokens (and the cost of verifying them) is limited like any unauthenticated call."""
    gateway = start_service(
        "gateway",
        {
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
            "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "6",
            "WEFT_GATEWAY_RATE_LIMIT_BURST": "3",
            "WEFT_GATEWAY_RATE_LIMIT_SHARED": "false",
        },
    )
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        statuses = []
        for i in range(6):
            headers = {"Authorization": f"Bearer not-a-token-{i}"} if i % 2 else {}
            statuses.append((await client.get("/v1/me", headers=headers)).status_code)
    assert statuses == [401, 401, 401, 429, 429, 429], statuses
