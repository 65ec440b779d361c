"""What an open stream holds in the notifications process, and that it lets go: a client
that disconnects frees its listener; a client that stops reading is disconnected."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.types import Message

from tests.gateway.servers import serve
from tests.support.api import new_person
from tests.support.waiting import eventually
from weft_notifications.api.event_stream import EventStreamResponse
from weft_notifications.app import create_app
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.jobs.live_inbox import LiveInbox
from weft_notifications.settings import NotificationsSettings
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify
from weft_shared.settings import PlatformSettings


@asynccontextmanager
async def in_process(
    platform_env: dict[str, str], **settings: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, LiveInbox, NotificationsContext]]:
    """The notifications app in this process (so its listeners can be counted), on a database
    and durable consumer of its own."""
    run = secrets.token_hex(4)
    platform = PlatformSettings(
        env="dev", nats_url=platform_env["WEFT_NATS_URL"], mongodb_url=platform_env["MONGODB_URL"]
    )
    app = create_app(
        NotificationsSettings(
            platform=platform, database=f"weft_notifications_{run}", consumer_name=f"notifications-{run}", **settings
        )
    )
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http, app.state.live_inbox, app.state.ctx


@pytest.fixture
async def service(platform_env: dict[str, str]) -> AsyncIterator[tuple[httpx.AsyncClient, LiveInbox]]:
    async with in_process(platform_env) as (http, live, _ctx):
        yield http, live


async def no_listeners(live: LiveInbox) -> bool:
    return live.connections() == 0


async def test_a_client_that_disconnects_frees_its_listener(service: tuple[httpx.AsyncClient, LiveInbox]) -> None:
    http, live = service
    ana = new_person("ana")
    for _ in range(2):
        async with http.stream("GET", "/v1/me/stream", headers=ana.headers) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            while await anext(lines) != "event: unread":  # registered once it has read the counter
                pass
            assert live.connections() == 1
        await eventually(lambda: no_listeners(live), what="the listener to go")


async def test_a_client_that_stops_reading_is_disconnected() -> None:
    """The server's write never completes (the client's window is full): the response gives
    up after the send timeout instead of waiting, and its frames are closed."""
    closed = asyncio.Event()
    sent: list[Message] = []

    async def frames() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b": keep-alive\n\n"
        finally:
            closed.set()

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()  # never drains

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client never says it has gone
        return {"type": "http.disconnect"}

    response = EventStreamResponse(frames(), send_timeout=0.2)
    async with asyncio.timeout(10):
        await response({"type": "http"}, receive, send)
    assert closed.is_set()
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]  # one frame, no more


async def test_without_change_streams_one_poll_per_process_wakes_the_stream(platform_env: dict[str, str]) -> None:
    """For a server without change streams: `stream_watch_changes=false`. (The stream reads
    the database only when woken, so here only the poll can bring the item.) The item is
    given through the fan-out use case in this process, as a message handler would."""
    ana = new_person("ana")
    notice = Notice(NotificationType.JOIN_REQUESTED, "Ben asked to join", "Ben", None, "ben", key=f"k-{ana.user_id}")
    settings = {"stream_watch_changes": False, "stream_poll_seconds": 0.2, "stream_heartbeat_seconds": 600}
    async with (
        in_process(platform_env, **settings) as (http, _live, ctx),
        http.stream("GET", "/v1/me/stream", headers=ana.headers) as response,
    ):
        lines = response.aiter_lines()
        while await anext(lines) != "event: unread":
            pass

        async def give(_tx: object) -> int:
            return await notify(ctx, notice, [ana.user_id])

        assert await ctx.uow.run(give) == 1
        async with asyncio.timeout(30):  # a bound on failure
            assert [await anext(lines) for _ in range(2)] == ['data: {"unread":0}', ""]
            assert [await anext(lines) for _ in range(2)] == ["id: 1", "event: notification"]
