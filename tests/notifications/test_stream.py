"""The live stream (GET /v1/me/stream) through the real gateway: live items, resuming
with Last-Event-ID, unread counts, heartbeats, a second replica, and shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest

from tests.conftest import StartService
from tests.support.api import Person, create_community, join, new_person, problem
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings

# Long enough for a message to cross membership, NATS and notifications on a loaded box;
# a bound on failure, not a measured figure.
ARRIVES_WITHIN = 30.0
ACK_WAIT_AND_MORE = 90.0


class EventStream:
    """Reads Server-Sent Events frames: {'id', 'event', 'data', 'retry', 'comments'}."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def frame(self) -> dict[str, Any] | None:
        """The next frame, or None when the stream ended."""
        frame: dict[str, Any] = {}
        async with asyncio.timeout(ARRIVES_WITHIN):
            async for line in self._lines:
                if line == "":
                    if frame:
                        return frame
                    continue
                if line.startswith(":"):
                    frame.setdefault("comments", []).append(line[1:].strip())
                    continue
                name, _, value = line.partition(":")
                frame[name] = value[1:] if value.startswith(" ") else value
        return frame or None

    async def next(self, event: str) -> dict[str, Any]:
        """The next frame of this event type (others are skipped)."""
        while True:
            frame = await self.frame()
            assert frame is not None, f"the stream ended before an {event!r} event"
            if frame.get("event") == event:
                return frame

    async def notification(self) -> tuple[int, dict[str, Any]]:
        frame = await self.next("notification")
        return int(frame["id"]), orjson.loads(frame["data"])

    async def unread(self) -> int:
        count: int = orjson.loads((await self.next("unread"))["data"])["unread"]
        return count


@asynccontextmanager
async def stream(
    web: httpx.AsyncClient, person: Person, headers: dict[str, str] | None = None, **params: Any
) -> AsyncIterator[EventStream]:
    async with web.stream("GET", "/v1/me/stream", headers={**person.headers, **(headers or {})}, params=params) as r:
        assert r.status_code == 200, (await r.aread()).decode()
        assert r.headers["content-type"].startswith("text/event-stream")
        events = EventStream(r)
        first = await events.frame()
        assert first is not None and first.get("retry") == "3000"
        yield events


async def inbox(web: httpx.AsyncClient, person: Person) -> list[dict[str, Any]]:
    response = await web.get("/v1/me/notifications", headers=person.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def given(
    web: httpx.AsyncClient, owner: Person, community_id: str, count: int, *, within: float = ARRIVES_WITHIN
) -> list[dict[str, Any]]:
    """`count` people ask to join; returns the owner's items once all have arrived (newest first)."""
    before = len(await inbox(web, owner))
    for _ in range(count):
        assert (await join(web, community_id, new_person("joiner"))).status_code == 202
    items: list[dict[str, Any]] = await eventually(
        lambda: _at_least(web, owner, before + count), what=f"{count} notifications", timeout=within
    )
    return items


async def _at_least(web: httpx.AsyncClient, owner: Person, n: int) -> list[dict[str, Any]] | None:
    items = await inbox(web, owner)
    return items if len(items) >= n else None


async def owner_with_items(web: httpx.AsyncClient, count: int) -> tuple[Person, str]:
    ana = new_person("ana")
    community = await create_community(web, ana, join_policy="approval")
    for _ in range(count):
        assert (await join(web, community["id"], new_person("joiner"))).status_code == 202
    await eventually(lambda: _exactly(web, ana, count), what=f"{count} notifications", timeout=ARRIVES_WITHIN)
    return ana, community["id"]


async def _exactly(web: httpx.AsyncClient, owner: Person, n: int) -> bool:
    return len(await inbox(web, owner)) == n


async def test_a_new_notification_arrives_as_it_is_given(web: httpx.AsyncClient) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await create_community(web, ana, join_policy="approval")
    async with stream(web, ana) as events:
        assert await events.unread() == 0  # the badge's starting value
        assert (await join(web, community["id"], ben)).status_code == 202
        seq, item = await events.notification()
        assert await events.unread() == 1
        [listed] = await inbox(web, ana)
        assert (seq, item) == (1, listed)  # the same JSON as the list's item, numbered by seq
        assert item["type"] == "join_requested" and item["actor_id"] == ben.user_id

        marked = await web.post(f"/v1/me/notifications/{item['id']}/read", headers=ana.headers)
        assert marked.status_code == 200, marked.text
        assert await events.unread() == 0  # reads move the count too


async def test_without_last_event_id_it_starts_from_now(web: httpx.AsyncClient) -> None:
    ana, community_id = await owner_with_items(web, 2)
    async with stream(web, ana) as events:
        assert await events.unread() == 2
        assert (await join(web, community_id, new_person("carl"))).status_code == 202
        seq, _item = await events.notification()
        assert seq == 3  # nothing old was sent first


async def test_a_reconnect_with_last_event_id_gets_exactly_the_missed_ones(web: httpx.AsyncClient) -> None:
    ana, community_id = await owner_with_items(web, 3)
    async with stream(web, ana, headers={"Last-Event-ID": "1"}) as events:
        assert [(await events.notification())[0] for _ in range(2)] == [2, 3]
        assert (await join(web, community_id, new_person("dan"))).status_code == 202
        assert (await events.notification())[0] == 4  # then live

    # For clients that cannot set headers; a browser's automatic reconnect sends the header
    # with the first URL, so the header wins.
    async with stream(web, ana, last_event_id=3) as events:
        assert (await events.notification())[0] == 4
    async with stream(web, ana, headers={"Last-Event-ID": "2"}, last_event_id=0) as events:
        assert (await events.notification())[0] == 3


async def test_items_given_while_catching_up_come_once_each_in_order(web: httpx.AsyncClient) -> None:
    ana, community_id = await owner_with_items(web, 4)

    async def more() -> None:
        for _ in range(6):
            assert (await join(web, community_id, new_person("late"))).status_code == 202

    async with stream(web, ana, headers={"Last-Event-ID": "0"}) as events:
        joining = asyncio.create_task(more())
        seqs = [(await events.notification())[0] for _ in range(10)]
        await joining
    assert seqs == list(range(1, 11))


async def test_the_stream_ends_when_the_token_expires(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    short = {"Authorization": f"Bearer {issue_dev_token(PlatformSettings(env='dev'), ana.user_id, ttl_seconds=8)}"}
    async with stream(web, ana, headers=short) as events:
        assert await events.unread() == 0
        assert await events.frame() is None  # ended by the service, not cut: the client reconnects


async def test_bad_last_event_ids_are_422s_naming_the_field(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    for headers, params, field in (
        ({"Last-Event-ID": "abc"}, {}, "Last-Event-ID"),
        ({"Last-Event-ID": "-1"}, {}, "Last-Event-ID"),
        ({}, {"last_event_id": "1.5"}, "last_event_id"),
        ({}, {"last_event_id": str(2**60)}, "last_event_id"),
    ):
        body = problem(await web.get("/v1/me/stream", headers={**ana.headers, **headers}, params=params), 422)
        assert [e["field"] for e in body["errors"]] == [field]
    problem(await web.get("/v1/me/stream"), 401)


# -- a second replica with its own settings, behind its own gateway ----------------------------


@pytest.fixture
def replica(start_service: StartService, membership_service: ServiceProcess) -> tuple[ServiceProcess, str]:
    """A second notifications process on the same database and durable consumer as the
    session's (so either may write an item), heartbeats every half second."""
    notifications = start_service("notifications", env={"WEFT_NOTIFICATIONS_STREAM_HEARTBEAT_SECONDS": "0.5"})
    gateway = start_service(
        "gateway",
        env={
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
            "WEFT_GATEWAY_NOTIFICATIONS_URL": notifications.url,
        },
    )
    return notifications, gateway.url


async def test_heartbeats_items_from_either_replica_and_a_clean_shutdown(
    web: httpx.AsyncClient, replica: tuple[ServiceProcess, str]
) -> None:
    notifications, gateway_url = replica
    ana = new_person("ana")
    community = await create_community(web, ana, join_policy="approval")
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as other, stream(other, ana) as events:
        assert await events.unread() == 0
        frame = await events.frame()
        assert frame == {"comments": ["keep-alive"]}

        # Written by whichever replica took the message off the shared consumer. Seen under load
        # with two replicas: a notification given only after more than 30 s (the consumer's
        # ack_wait is 30 s), so this allows for a redelivery.
        await given(web, ana, community["id"], 3, within=ACK_WAIT_AND_MORE)
        assert [(await events.notification())[0] for _ in range(3)] == [1, 2, 3]

        # SIGTERM: the open stream ends, shutdown goes on, and the process exits 0.
        assert notifications.stop() == 0
        while (frame := await events.frame()) is not None:
            assert "comments" in frame or frame.get("event") == "unread", frame
    assert "timeout graceful shutdown exceeded" not in notifications.output(400)
