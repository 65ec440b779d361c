"""Helpers for discussion tests (threads, replies; the moderation tests use them too):
threads and replies posted through the gateway, and the discussion messages on the bus.
Communities and links come from `tests.resources.library`."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import Person
from tests.support.bus import BusMessage, stream_messages
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def start_thread(web: httpx.AsyncClient, community_id: str, author: Person, **fields: Any) -> Doc:
    body = {"kind": "discussion", "title": "How do you run handovers?", "body": "We use *SBAR*.", **fields}
    response = await web.post(f"/v1/communities/{community_id}/threads", json=body, headers=author.headers)
    assert response.status_code == 201, response.text
    thread: Doc = response.json()
    return thread


async def reply(web: httpx.AsyncClient, thread_id: str, author: Person, body: str = "Agreed.", **fields: Any) -> Doc:
    response = await web.post(f"/v1/threads/{thread_id}/replies", json={"body": body, **fields}, headers=author.headers)
    assert response.status_code == 201, response.text
    posted: Doc = response.json()
    return posted


async def discussion_messages(nats_url: str, community_id: str) -> list[BusMessage]:
    return await stream_messages(nats_url, f"weft.discussion.*.*.{community_id}")


async def messages_about(nats_url: str, community_id: str, thread_id: str, *, at_least: int) -> list[BusMessage]:
    """The discussion messages about one thread, once there are `at_least` of them."""

    async def found() -> list[BusMessage] | None:
        about = [
            m for m in await discussion_messages(nats_url, community_id) if m.body["data"]["thread"]["id"] == thread_id
        ]
        return about if len(about) >= at_least else None

    result: list[BusMessage] = await eventually(found, what=f"{at_least} messages about thread {thread_id}")
    return result
