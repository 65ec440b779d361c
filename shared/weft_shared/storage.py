"""MongoDB lifecycle: one AsyncMongoClient per process, indexes created on start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

IndexSetup = Callable[[AsyncDatabase[dict[str, Any]]], Awaitable[None]]


class MongoLifecycle:
    def __init__(self, url: str, database: str, *, app_name: str) -> None:
        # tz_aware so datetimes come back as UTC-aware values, comparable with now(UTC).
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000, connect=False
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]

    async def start(self, setup_indexes: IndexSetup) -> None:
        await self.client.admin.command("ping")
        await setup_indexes(self.db)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
