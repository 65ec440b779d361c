"""Notifications tests drive the suite through the gateway, as a client would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from weft_cli.testing import ServiceProcess


@pytest.fixture(scope="session")
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as http:
        yield http
