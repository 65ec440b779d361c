"""Reading people's inboxes through the gateway, and waiting until the notifications
service has handled given messages (so a test can say who was *not* told)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person
from tests.support.bus import stream_messages
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def inbox(web: httpx.AsyncClient, person: Person, **params: Any) -> list[Doc]:
    response = await web.get("/v1/me/notifications", params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    items: list[Doc] = response.json()["items"]
    return items


async def unread(web: httpx.AsyncClient, person: Person) -> int:
    response = await web.get("/v1/me/notifications/unread-count", headers=person.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["unread"]
    return count


async def of_type(web: httpx.AsyncClient, person: Person, kind: str) -> list[Doc]:
    return [item for item in await inbox(web, person, limit=100) if item["type"] == kind]


async def told(web: httpx.AsyncClient, person: Person, kind: str) -> Doc:
    """The one notification of this type `person` has, once it is there."""
    items = await eventually(lambda: of_type(web, person, kind), what=f"{person.user_id} to be told {kind}")
    assert len(items) == 1, items
    item: Doc = items[0]
    return item


async def handled(db: AsyncDatabase[Doc], nats_url: str, subject: str, types: Iterable[str]) -> int:
    """Wait until the service has handled every message of these types under `subject`
    now in the stream; returns how many there were."""
    wanted = {f"org.weft.{t}.v1" for t in types}

    async def all_handled() -> int:
        ids = [m.body["id"] for m in await stream_messages(nats_url, subject) if m.type in wanted]
        done = await db.processed_messages.count_documents({"_id": {"$in": ids}})
        return len(ids) if ids and done == len(ids) else 0

    found: int = await eventually(all_handled, what=f"{sorted(wanted)} handled")
    return found


@pytest.fixture(scope="session")
async def notifications_db(database: Any, platform_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Doc]]:
    """The session notifications service's own database (read only, for assertions)."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client[platform_env["WEFT_NOTIFICATIONS_DATABASE"]]
    finally:
        await client.close()
