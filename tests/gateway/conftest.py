"""Fixtures for gateway tests; the servers themselves live in `servers.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.gateway.servers import (
    EchoUpstream,
    echo_upstream,
    refused_url,
    start_gateway,
    token,
)


@pytest.fixture(scope="module")
async def membership() -> AsyncIterator[EchoUpstream]:
    async with echo_upstream("membership") as upstream:
        yield upstream


@pytest.fixture(scope="module")
async def events() -> AsyncIterator[EchoUpstream]:
    async with echo_upstream("events") as upstream:
        yield upstream


@pytest.fixture(scope="module")
async def gateway(membership: EchoUpstream, events: EchoUpstream) -> AsyncIterator[httpx.AsyncClient]:
    """Membership and events configured, resources refused, notifications not configured."""
    async with start_gateway(
        membership_url=membership.url,
        events_url=events.url,
        resources_url=refused_url(),
    ) as client:
        yield client


@pytest.fixture
def alice() -> dict[str, str]:
    return {"Authorization": f"Bearer {token('alice')}"}
