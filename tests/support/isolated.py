"""A stream, subject prefix and database of a test's own on the session's servers,
for tests that run shared plumbing in-process rather than through a service."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.settings import PlatformSettings


@dataclass
class Isolated:
    platform: PlatformSettings
    client: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]


@asynccontextmanager
async def isolated(nats_url: str, database_url: str, label: str) -> AsyncIterator[Isolated]:
    run = secrets.token_hex(3)
    platform = PlatformSettings(
        env="dev",
        nats_url=nats_url,
        mongodb_url=database_url,
        stream_name=f"TEST_{run.upper()}",
        subject_prefix=f"t{run}",
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database_url, tz_aware=True)
    db = client[f"{label}_{run}"]
    broker = create_broker(platform, client_name=f"{label}-setup")
    await broker.connect()
    try:
        await ensure_streams(broker, platform)
    finally:
        await broker.stop()
    try:
        yield Isolated(platform, client, db)
    finally:
        await client.drop_database(db.name)
        await client.close()
