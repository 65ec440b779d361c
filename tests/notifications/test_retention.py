"""Retention settings: the notifications service's TTL indexes (read inbox items,
finished webhook deliveries, sent and failed mails) and the streams' `max_age`
carry the configured values, and a changed setting is applied on the next start."""

from __future__ import annotations

import secrets
from typing import Any

import nats
import pytest
from pymongo import AsyncMongoClient

from tests.conftest import StartService
from weft_notifications.storage.retention import EMAIL_FAILED_TTL, EMAIL_SENT_TTL, INBOX_TTL, WEBHOOK_DELIVERY_TTL
from weft_shared.storage.retention import ttl_of

DAY = 86400


def retention_env(
    run: str, database: str, *, inbox: int, deliveries: int, email: int, stream: int, dlq: int
) -> dict[str, str]:
    return {
        "WEFT_NOTIFICATIONS_DATABASE": database,
        "WEFT_STREAM_NAME": f"RETENTION_{run.upper()}",
        "WEFT_SUBJECT_PREFIX": f"r{run}",
        "WEFT_NOTIFICATIONS_INBOX_RETENTION_DAYS": str(inbox),
        "WEFT_NOTIFICATIONS_WEBHOOK_DELIVERY_RETENTION_DAYS": str(deliveries),
        "WEFT_NOTIFICATIONS_EMAIL_RETENTION_DAYS": str(email),
        "WEFT_STREAM_MAX_AGE_DAYS": str(stream),
        "WEFT_DEAD_LETTER_MAX_AGE_DAYS": str(dlq),
    }


async def retention_of(
    client: AsyncMongoClient[dict[str, Any]], database: str, nats_url: str, stream: str
) -> dict[str, Any]:
    db = client[database]
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        main, dead = await js.stream_info(stream), await js.stream_info(stream + "_DLQ")
    finally:
        await nc.close()
    return {
        "inbox": await ttl_of(db.inbox, INBOX_TTL),
        "deliveries": await ttl_of(db.webhook_deliveries, WEBHOOK_DELIVERY_TTL),
        "sent": await ttl_of(db.email_outbox, EMAIL_SENT_TTL),
        "failed": await ttl_of(db.email_outbox, EMAIL_FAILED_TTL),
        "stream": main.config.max_age,
        "dlq": dead.config.max_age,
    }


@pytest.mark.asyncio
async def test_retention_settings_reach_the_indexes_and_streams_and_follow_a_change(
    start_service: StartService, platform_env: dict[str, str]
) -> None:
    run = secrets.token_hex(3)
    database = f"weft_retention_{run}"
    stream = f"RETENTION_{run.upper()}"
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform_env["MONGODB_URL"], tz_aware=True)
    nats_url = platform_env["WEFT_NATS_URL"]
    try:
        first = start_service(
            "notifications", retention_env(run, database, inbox=10, deliveries=5, email=7, stream=3, dlq=2)
        )
        assert await retention_of(client, database, nats_url, stream) == {
            "inbox": 10 * DAY,
            "deliveries": 5 * DAY,
            "sent": 7 * DAY,
            "failed": 7 * DAY,
            "stream": 3 * DAY,
            "dlq": 2 * DAY,
        }
        first.stop()
        # The next start with other values changes the existing indexes (collMod) and streams.
        start_service("notifications", retention_env(run, database, inbox=20, deliveries=1, email=7, stream=4, dlq=1))
        assert await retention_of(client, database, nats_url, stream) == {
            "inbox": 20 * DAY,
            "deliveries": 1 * DAY,
            "sent": 7 * DAY,
            "failed": 7 * DAY,
            "stream": 4 * DAY,
            "dlq": 1 * DAY,
        }
    finally:
        await client.drop_database(database)
        await client.close()
        nc = await nats.connect(nats_url)
        try:
            for name in (stream, stream + "_DLQ"):
                await nc.jetstream().delete_stream(name)
        finally:
            await nc.close()
