from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from weft_cli.testing import ServiceProcess


@pytest.fixture(scope="session")
async def client(membership_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=membership_service.url, timeout=15) as http:
        yield http


@pytest.fixture(scope="session")
def nats_url(nats_server) -> str:  # type: ignore[no-untyped-def]
    return str(nats_server.url)
