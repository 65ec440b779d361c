"""Notifications tests drive the suite through the gateway, as a client would."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.testing import ServiceProcess


@pytest.fixture(scope="session")
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as http:
        yield http


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """A real HTTP endpoint for webhooks, on 127.0.0.1 (the tests' allowlist)."""
    endpoint = WebhookReceiver()
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.stop()
