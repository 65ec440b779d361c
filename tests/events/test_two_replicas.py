"""Two events processes on one database and one durable consumer, with requests
spread over both: the last seat, promotion on leave and reminders still happen
exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.events.conftest import (
    community_with,
    eventually,
    known_member,
    one_minute_reminders,
    race_for_ten_seats,
    rsvp,
    schedule,
)
from tests.support.api import new_person
from tests.support.bus import stream_messages, wait_for_messages


@pytest.fixture
async def replicas(start_service) -> AsyncIterator[list[httpx.AsyncClient]]:  # type: ignore[no-untyped-def]
    env = one_minute_reminders("replicas", poll_seconds=0.3)  # both share it: one database, one consumer
    processes = [start_service("events", env=env) for _ in range(2)]
    async with (
        httpx.AsyncClient(base_url=processes[0].url, timeout=60) as a,
        httpx.AsyncClient(base_url=processes[1].url, timeout=60) as b,
    ):
        yield [a, b]


async def test_two_replicas_one_truth(
    members: httpx.AsyncClient,
    replicas: list[httpx.AsyncClient],
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    a, b = replicas
    owner = new_person("owner")
    people = [new_person(f"p{i}") for i in range(50)]
    cid = await community_with(members, owner, people)
    starts = datetime.now(UTC) + timedelta(seconds=80)  # its one-minute reminder is due in ~20 s
    reminded = await schedule(
        a, cid, owner, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=1)).isoformat()
    )
    for p in people:
        await known_member(b, reminded["id"], p)

    await race_for_ten_seats(replicas, nats_server.url, cid, owner, people)

    # Promotion on leave: whichever replica handles the leave, the seat moves once.
    ana, ben = people[0], people[1]
    one_seat = (await schedule(b, cid, owner, capacity={"in_person": 1}))["id"]
    assert (await rsvp(a, one_seat, ana)).json()["status"] == "confirmed"
    assert (await rsvp(b, one_seat, ben)).json()["status"] == "waitlisted"
    assert (
        await members.delete(f"/v1/communities/{cid}/members/{ana.user_id}", headers=ana.headers)
    ).status_code == 204

    async def promoted() -> bool:
        mine = (await a.get(f"/v1/events/{one_seat}", headers=ben.headers)).json()["my_rsvp"]
        return mine is not None and mine["status"] == "confirmed"

    await eventually(promoted, what="ben to be promoted after ana left")
    about = [
        m
        for m in await wait_for_messages(nats_server.url, f"weft.rsvp.*.*.{cid}", at_least=54)
        if m.body["data"]["rsvp"]["event_id"] == one_seat
    ]
    assert [m.type for m in about] == [
        "org.weft.rsvp.confirmed.v1",
        "org.weft.rsvp.waitlisted.v1",
        "org.weft.rsvp.cancelled.v1",
        "org.weft.rsvp.promoted.v1",
    ]
    listed = (await b.get(f"/v1/events/{one_seat}/attendees", headers=owner.headers)).json()
    assert [(x["user_id"], x["status"]) for x in listed["attendees"]] == [(ben.user_id, "confirmed")]
    assert listed["confirmed"]["in_person"] == 1 and listed["waitlisted"]["in_person"] == 0

    # Both replicas poll for due reminders; the reminder goes out once.
    subject = f"weft.reminder.due.v1.{cid}"

    async def reminder_sent() -> list[object]:
        return await stream_messages(nats_server.url, subject)

    await eventually(reminder_sent, timeout=60, what="the reminder")
    await asyncio.sleep(2)  # several more polls of both replicas
    found = await stream_messages(nats_server.url, subject)
    assert Counter(m.body["data"]["event"]["id"] for m in found) == {reminded["id"]: 1}
