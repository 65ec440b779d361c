"""Personal calendar feed tokens on a real database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from weft_events.feeds import CalendarFeeds, token_hash


@pytest.fixture
async def feeds(database) -> AsyncIterator[CalendarFeeds]:  # type: ignore[no-untyped-def]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database.url, tz_aware=True)
    db = client[f"feeds_{secrets.token_hex(4)}"]
    store = CalendarFeeds(db.calendar_feeds)
    await store.create_indexes()
    try:
        yield store
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_a_new_token_resolves_to_its_owner_and_only_its_hash_is_stored(feeds: CalendarFeeds) -> None:
    token = await feeds.create("ana")
    assert len(token) == 43
    assert await feeds.resolve(token) == "ana"
    stored = await feeds.collection.find_one({"user_id": "ana"})
    assert stored is not None
    assert stored["_id"] == token_hash(token)
    assert stored["revoked_at"] is None
    assert token not in str(stored)


async def test_unknown_and_malformed_tokens_resolve_to_nobody(feeds: CalendarFeeds) -> None:
    await feeds.create("ana")
    assert await feeds.resolve(secrets.token_urlsafe(32)) is None
    assert await feeds.resolve("") is None
    assert await feeds.resolve("not/a token") is None
    assert await feeds.resolve("x" * 500) is None


async def test_a_revoked_token_stops_resolving(feeds: CalendarFeeds) -> None:
    token = await feeds.create("ana")
    other = await feeds.create("ben")
    assert await feeds.revoke("ana") == 1
    assert await feeds.resolve(token) is None
    assert await feeds.resolve(other) == "ben"  # someone else's feed is untouched
    assert await feeds.revoke("ana") == 0  # revoking again is fine and changes nothing


async def test_a_new_feed_revokes_the_previous_ones(feeds: CalendarFeeds) -> None:
    first = await feeds.create("ana")
    second = await feeds.create("ana")
    third = await feeds.create("ana")
    assert await feeds.resolve(first) is None
    assert await feeds.resolve(second) is None
    assert await feeds.resolve(third) == "ana"
    assert await feeds.collection.count_documents({"user_id": "ana", "revoked_at": None}) == 1


async def test_racing_creates_leave_a_live_feed(feeds: CalendarFeeds) -> None:
    tokens = await asyncio.gather(*(feeds.create("ana") for _ in range(10)))
    live = [t for t in tokens if await feeds.resolve(t) == "ana"]
    assert live  # never all revoked by each other
    assert await feeds.collection.count_documents({"user_id": "ana"}) == 10
