"""Reminders from the real `weft events` process: once per occurrence and offset,
even when the process is killed and restarted around the due time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.events.conftest import community_with, eventually, one_minute_reminders, schedule
from tests.support.api import new_person
from tests.support.bus import stream_messages


async def test_a_reminder_fires_once_across_restarts(
    start_service,
    members: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    service = start_service("events", env=one_minute_reminders("reminders", poll_seconds=0.5))
    owner = new_person("owner")
    cid = await community_with(members, owner, [])
    starts = datetime.now(UTC) + timedelta(seconds=75)  # reminder due in ~15 s
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as events:
        created = await schedule(
            events, cid, owner, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=1)).isoformat()
        )
    subject = f"weft.reminder.due.v1.{cid}"
    assert await stream_messages(nats_server.url, subject) == []

    service.kill()  # a crash well before the reminder is due
    service.start()

    async def reminded() -> list[object]:
        return await stream_messages(nats_server.url, subject)

    found = await eventually(reminded, timeout=60, what="the reminder")
    service.kill()  # and again right after it fired
    service.start()
    await asyncio.sleep(3)  # a few more polls of the restarted scheduler
    found = await stream_messages(nats_server.url, subject)
    assert len(found) == 1
    data = found[0].body["data"]
    assert data["offset_minutes"] == 1 and data["event"]["id"] == created["id"]
    assert "joining_link" not in data["event"]
