"""Requests two readers could understand differently are refused, at the gateway and at a service
reached directly: repeated Authorization (and other single-valued headers), smuggling framing,
and tokens whose time claims are not numbers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest

from tests.gateway.servers import EchoUpstream, token
from tests.support.api import problem
from weft_cli.testing import ServiceProcess
from weft_shared.settings import DEV_ISSUER, DEV_SIGNING_KEY


def signed(**claims: Any) -> str:
    """A token signed with the dev key, so only its claims can be wrong."""
    base = {"sub": "mallory", "iss": DEV_ISSUER, "aud": "weft", "exp": int(time.time()) + 3600}
    return jwt.encode({**base, **claims}, DEV_SIGNING_KEY, algorithm="HS256")


async def test_two_authorization_headers_are_refused_at_the_gateway(
    gateway: httpx.AsyncClient, membership: EchoUpstream
) -> None:
    before = len(membership.received)
    response = await gateway.get(
        "/v1/communities/c1",
        headers=[("Authorization", f"Bearer {token('alice')}"), ("Authorization", f"Bearer {token('bob')}")],
    )
    body = problem(response, 400)
    assert body["errors"] == [{"field": "Authorization", "message": body["detail"]}]
    assert len(membership.received) == before


@pytest.mark.parametrize("header", ["Idempotency-Key", "Content-Type"])
async def test_other_single_valued_headers_are_refused_when_repeated(
    gateway: httpx.AsyncClient, membership: EchoUpstream, alice: dict[str, str], header: str
) -> None:
    before = len(membership.received)
    response = await gateway.post(
        "/v1/communities",
        content=b"{}",
        headers=[*alice.items(), (header, "application/json"), (header, "text/plain")],
    )
    assert problem(response, 400)["errors"][0]["field"] == header
    assert len(membership.received) == before


async def _raw_exchange(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), timeout=10)
    finally:
        writer.close()


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
        b"Content-Length: 4\r\nContent-Length: 9\r\n\r\nabcd",
    ],
    ids=["length-and-chunked", "two-lengths"],
)
async def test_smuggling_framings_are_refused(
    gateway: httpx.AsyncClient, membership: EchoUpstream, framing: bytes
) -> None:
    # Raw bytes: HTTP clients refuse to send these framings at all.
    before = len(membership.received)
    head = f"POST /v1/communities HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token()}\r\n".encode()
    answer = await _raw_exchange(str(gateway.base_url), head + framing)
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert len(membership.received) == before


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "9999999999"},
        {"exp": True},
        {"exp": 9999999999.5, "nbf": "0"},
        {"iat": "1700000000"},
        {"iat": False},
        {"nbf": True},
    ],
    ids=["exp-string", "exp-bool", "nbf-string", "iat-string", "iat-bool", "nbf-bool"],
)
async def test_time_claims_that_are_not_numbers_are_401(
    gateway: httpx.AsyncClient, membership: EchoUpstream, claims: dict[str, Any]
) -> None:
    before = len(membership.received)
    problem(await gateway.get("/v1/me", headers={"Authorization": f"Bearer {signed(**claims)}"}), 401)
    assert len(membership.received) == before
    # A fractional NumericDate is a number, and fine (RFC 7519 §2).
    fine = await gateway.get("/v1/me", headers={"Authorization": f"Bearer {signed(exp=time.time() + 60)}"})
    assert fine.status_code == 200


async def test_a_service_reached_directly_refuses_them_too(membership_service: ServiceProcess) -> None:
    async with httpx.AsyncClient(base_url=membership_service.url, timeout=15) as service:
        two = [("Authorization", f"Bearer {token('alice')}"), ("Authorization", f"Bearer {token('bob')}")]
        body = problem(await service.get("/v1/me", headers=two), 400)
        assert body["errors"][0]["field"] == "Authorization"
        string_exp = {"Authorization": f"Bearer {signed(exp='9999999999')}"}
        assert "exp" in problem(await service.get("/v1/me", headers=string_exp), 401)["detail"]
        assert (await service.get("/v1/me", headers={"Authorization": f"Bearer {token('alice')}"})).status_code == 200
