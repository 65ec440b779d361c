"""Pooled connections to a service that die: one failure never becomes another request's 502,
and a request that is safe to send twice gets one more try on a fresh connection."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import httpx
from fastapi import FastAPI

from tests.gateway.servers import DEV, dropping_upstream, echo_upstream, serve, start_gateway, token
from weft_shared.http import create_service_app

CLIENTS = 16
REQUESTS = 450
FAILING = len(range(0, REQUESTS, 6))


async def _mixed_load(gateway: httpx.AsyncClient, failing: str, ok: str) -> tuple[Counter[int], Counter[int]]:
    """16 clients share 450 requests: every sixth hits the failing path, the rest are GETs and POSTs."""
    headers = {"Authorization": f"Bearer {token('alice')}"}
    numbers = iter(range(REQUESTS))
    failures: Counter[int] = Counter()
    unrelated: Counter[int] = Counter()

    async def client() -> None:
        for n in numbers:
            if n % 6 == 0:
                failures[(await gateway.get(failing, headers=headers)).status_code] += 1
            elif n % 2:
                unrelated[(await gateway.get(f"{ok}{n}", headers=headers)).status_code] += 1
            else:
                response = await gateway.post(f"{ok}{n}", headers=headers, json={"n": n})
                unrelated[response.status_code] += 1

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return failures, unrelated


async def test_a_connection_that_answered_500_is_not_reused() -> None:
    # The service closes a connection after its 500 as soon as the next request is on it.
    async with (
        dropping_upstream("after-500") as service,
        start_gateway(membership_url=service.url) as gateway,
    ):
        failures, unrelated = await _mixed_load(gateway, "/v1/communities/c1/fail", "/v1/communities/ok-")
    assert failures == Counter({500: FAILING})
    assert unrelated == Counter({200: REQUESTS - FAILING})
    # Nothing was sent twice (the gateway also asks for /openapi.json).
    assert len([line for line in service.received if " /v1/" in line]) == REQUESTS


async def test_a_service_that_fails_and_drops_the_connection_costs_no_other_request() -> None:
    # A real uvicorn service: `?crash=1` answers 500, then raises, and uvicorn closes the connection.
    async with (
        echo_upstream("membership") as service,
        start_gateway(membership_url=service.url) as gateway,
    ):
        failures, unrelated = await _mixed_load(gateway, "/v1/communities/c1?crash=1", "/v1/communities/ok-")
    assert failures == Counter({500: FAILING})
    assert unrelated == Counter({200: REQUESTS - FAILING})


async def test_only_requests_safe_to_repeat_are_retried_on_a_fresh_connection() -> None:
    # Every connection answers once; a second request on it is dropped unanswered.
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with (
        dropping_upstream("reused") as service,
        start_gateway(membership_url=service.url) as gateway,
    ):
        paths = (f"/v1/communities/c{n}" for n in itertools.count())

        async def pooled_then(method: str, **extra: str) -> int:
            """One GET leaves a pooled connection; `method` is then sent on it and dropped."""
            assert (await gateway.get(next(paths), headers=headers)).status_code == 200
            response = await gateway.request(method, next(paths), headers={**headers, **extra}, content=b"{}")
            return response.status_code

        assert await pooled_then("GET") == 200
        assert await pooled_then("HEAD") == 200
        assert await pooled_then("POST", **{"Idempotency-Key": "k-1"}) == 200
        # Not known to be safe to send twice: the failure is this request's own 502, no retry.
        assert await pooled_then("POST") == 502
        assert await pooled_then("PUT") == 502
        assert await pooled_then("DELETE") == 502
    sent = Counter(service.received)
    retried = {line for line, times in sent.items() if times == 2}
    assert retried == {"GET /v1/communities/c1", "HEAD /v1/communities/c3", "POST /v1/communities/c5"}
    assert all(times <= 2 for times in sent.values())


async def test_a_service_says_it_closes_the_connection_after_an_unexpected_error() -> None:
    app: FastAPI = create_service_app(title="failing", platform=DEV, lifespan=None)

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("a bug (a test route)")

    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/boom")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
