"""Resources tests drive the suite through the gateway, as a client would; a few read
the service's own database to check what was stored (never to set things up)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from weft_cli.testing import ServiceProcess

Doc = dict[str, Any]


@pytest.fixture(scope="session")
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
async def resources_db(database: Any, platform_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Doc]]:
    """The session resources service's own database (read only, for assertions)."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client[platform_env["WEFT_RESOURCES_DATABASE"]]
    finally:
        await client.close()
