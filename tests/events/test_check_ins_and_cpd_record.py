"""Check-ins and the CPD record (`/me/attendance`), on the real servers."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.events.conftest import (
    assert_counters_match_places,
    community_with,
    counted_and_listed,
    event_body,
    eventually,
    known_member,
    schedule,
)
from tests.support.api import Person, create_community, new_person, problem, problem_fields
from tests.support.bus import stream_messages, wait_for_messages
from weft_events.domain.check_ins import CHECK_IN_CLOSES_AFTER, check_in_refusal
from weft_events.formats.cpd_record_csv import HEADER, neutralise

LEAD = timedelta(seconds=3)  # events must start in the future when scheduled: "started" ones start this soon


def check_in(events: httpx.AsyncClient, eid: str, host: Person, user_id: Any) -> Any:
    return events.post(f"/v1/events/{eid}/check-ins", json={"user_id": user_id}, headers=host.headers)


async def starting_soon(
    events: httpx.AsyncClient, cid: str, host: Person, *, lead: timedelta = LEAD, minutes: int = 90, **fields: Any
) -> tuple[str, datetime]:
    """An event starting `lead` from now (the community must already be known to the events service)."""
    starts = datetime.now(UTC) + lead
    starts = starts.replace(microsecond=starts.microsecond // 1000 * 1000)  # as stored (BSON keeps milliseconds)
    body = event_body(starts_at=starts.isoformat(), ends_at=(starts + timedelta(minutes=minutes)).isoformat(), **fields)
    response = await events.post(f"/v1/communities/{cid}/events", json=body, headers=host.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"], starts


async def until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.2)


async def test_hosts_check_in_once_and_the_person_gets_a_record(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server: Any,
) -> None:
    owner, ana, ben = new_person("owner"), new_person("ana"), new_person("ben")
    cid = await community_with(members, owner, [ana, ben])
    later = (await schedule(events, cid, owner))["id"]  # from here on the community is known
    for person in (ana, ben):
        await known_member(events, later, person)
    title = "=HYPERLINK('http://evil.example','CPD') Wound care"
    eid, starts = await starting_soon(events, cid, owner, title=title, capacity={"in_person": 1})
    assert (await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ana.headers)).json()[
        "status"
    ] == "confirmed"
    await until(starts)
    late = await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ben.headers)
    assert "started" in problem(late, 409)["detail"]  # no RSVPs to an event that has begun

    first = await check_in(events, eid, owner, ana.user_id)
    assert first.status_code == 201, first.text
    record = first.json()
    assert record["checked_in_by"] == owner.user_id and record["walk_in"] is False
    assert record["attendance"] == "in_person" and record["duration_minutes"] == 90
    again = await check_in(events, eid, owner, ana.user_id)
    assert again.status_code == 200 and again.json() == record

    # Ben never booked (and the one seat is taken): a member who walks in is still recorded.
    walk_in = await check_in(events, eid, owner, ben.user_id)
    assert walk_in.status_code == 201 and walk_in.json()["walk_in"] is True, walk_in.text
    seats = (await events.get(f"/v1/events/{eid}", headers=owner.headers)).json()["seats_left"]
    assert seats["in_person"] == 0
    counted, listed = await counted_and_listed(events, eid, owner)
    assert all(a["checked_in_at"] and a["status"] == "confirmed" for a in listed) and len(listed) == 2
    assert_counters_match_places(counted, listed)  # the walk-in counts in the head count

    problem(await check_in(events, eid, ana, ben.user_id), 403)  # not a host
    assert problem_fields(await check_in(events, eid, owner, "nobody-at-all"), 422) == {"user_id"}
    assert problem_fields(await check_in(events, eid, owner, {"$ne": None}), 422) == {"user_id"}

    found = await wait_for_messages(nats_server.url, f"weft.checkin.recorded.v1.{cid}", at_least=2)
    await asyncio.sleep(0.5)  # a duplicate would be published by now (the relay's fast path)
    found = await stream_messages(nats_server.url, f"weft.checkin.recorded.v1.{cid}")
    assert sorted(m.body["data"]["rsvp"]["user_id"] for m in found) == sorted([ana.user_id, ben.user_id])
    ana_message = next(m for m in found if m.body["data"]["rsvp"]["user_id"] == ana.user_id)
    assert ana_message.type == "org.weft.checkin.recorded.v1"
    assert ana_message.body["data"]["duration_minutes"] == 90
    assert ana_message.body["data"]["recorded_by"] == owner.user_id

    mine = (await events.get("/v1/me/attendance", headers=ana.headers)).json()
    assert mine["next_cursor"] is None and [i["event_id"] for i in mine["items"]] == [eid]
    item = mine["items"][0]
    assert item["title"] == title and item["duration_minutes"] == 90 and item["attendance"] == "in_person"
    assert item["community_id"] == cid and item["community_name"] and item["timezone"] == "Europe/London"
    assert item["checked_in_by"] == owner.user_id
    assert (await events.get("/v1/me/attendance", headers=owner.headers)).json()["items"] == []  # hosts, not attendees

    exported = await events.get("/v1/me/attendance.csv", headers=ana.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="weft-attendance-')
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == list(HEADER) and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["event_title"] == "'" + title  # shown as text by a spreadsheet, not run as a formula
    assert row["community_id"] == cid and row["community_name"] == item["community_name"]
    assert (row["date"], row["start_time"], row["end_time"]) == (
        item["local_date"],
        item["local_start"],
        item["local_end"],
    )
    assert row["duration_minutes"] == "90" and row["attendance"] == "in_person" and row["timezone"] == "Europe/London"
    assert datetime.fromisoformat(row["checked_in_at_utc"]) == datetime.fromisoformat(record["checked_in_at"]).replace(
        microsecond=0
    )


async def test_check_in_refused_before_the_event_and_when_cancelled(
    members: httpx.AsyncClient, events: httpx.AsyncClient, nats_server: Any
) -> None:
    owner, ana, stranger = new_person("owner"), new_person("ana"), new_person("stranger")
    cid = await community_with(members, owner, [ana])
    eid = (await schedule(events, cid, owner))["id"]  # a week ahead
    await known_member(events, eid, ana)
    await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ana.headers)

    assert "30 minutes" in problem(await check_in(events, eid, owner, ana.user_id), 409)["detail"]
    problem(await check_in(events, eid, ana, ana.user_id), 403)  # attendees don't check themselves in
    problem(await check_in(events, "000000000000000000000000", owner, ana.user_id), 404)
    assert problem_fields(await check_in(events, eid, owner, ""), 422) == {"user_id"}

    # Known to the events service (a member elsewhere: `schedule` waits until it is),
    # but could not have booked this community-only event.
    other = (await create_community(members, stranger))["id"]
    await schedule(events, other, stranger)
    refused = await check_in(events, eid, owner, stranger.user_id)
    assert problem_fields(refused, 422) == {"user_id"}
    # Issue 7 item 5: an id nobody knows gets the very same answer, so a host learns nothing of who exists.
    unknown = await check_in(events, eid, owner, f"nobody-{stranger.user_id}")
    assert (unknown.status_code, unknown.headers["content-type"], unknown.content) == (
        refused.status_code,
        refused.headers["content-type"],
        refused.content,
    )

    await events.post(f"/v1/events/{eid}/cancel", headers=owner.headers)
    assert "cancelled" in problem(await check_in(events, eid, owner, ana.user_id), 409)["detail"]
    assert await stream_messages(nats_server.url, f"weft.checkin.recorded.v1.{cid}") == []


async def test_the_record_pages_newest_first_and_filters_by_date(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, ana = new_person("owner"), new_person("ana")
    cid = await community_with(members, owner, [ana])
    skipped = (await schedule(events, cid, owner))["id"]
    await known_member(events, skipped, ana)
    await events.put(f"/v1/events/{skipped}/rsvp", json={"attendance": "in_person"}, headers=ana.headers)
    created = [
        await starting_soon(events, cid, owner, lead=LEAD + timedelta(milliseconds=300 * i), title=f"Session {i}")
        for i in range(3)
    ]
    await until(max(starts for _, starts in created))
    for eid, _ in created:
        assert (await check_in(events, eid, owner, ana.user_id)).status_code == 201

    newest_first = [eid for eid, _ in reversed(created)]
    page = (await events.get("/v1/me/attendance?limit=2", headers=ana.headers)).json()
    assert [i["event_id"] for i in page["items"]] == newest_first[:2] and page["next_cursor"]
    rest = (await events.get(f"/v1/me/attendance?limit=2&cursor={page['next_cursor']}", headers=ana.headers)).json()
    assert [i["event_id"] for i in rest["items"]] == newest_first[2:] and rest["next_cursor"] is None

    # `from` inclusive, `to` exclusive, on the start time.
    middle = created[1][1]
    window = {"from": middle.isoformat(), "to": (middle + timedelta(milliseconds=1)).isoformat()}
    only = (await events.get("/v1/me/attendance", params=window, headers=ana.headers)).json()
    assert [i["event_id"] for i in only["items"]] == [created[1][0]]
    in_csv = await events.get("/v1/me/attendance.csv", params=window, headers=ana.headers)
    assert [r[-1] for r in csv.reader(io.StringIO(in_csv.text))][1:] == [created[1][0]]

    backwards = {"from": middle.isoformat(), "to": (middle - timedelta(days=1)).isoformat()}
    assert problem_fields(await events.get("/v1/me/attendance", params=backwards, headers=ana.headers), 400) == {"to"}
    assert problem_fields(await events.get("/v1/me/attendance?cursor=bogus", headers=ana.headers), 400) == {"cursor"}


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Falls huddle", "Falls huddle"),
        ("Q&A = fun", "Q&A = fun"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cell: str, safe: str) -> None:
    assert neutralise(cell) == safe


def test_check_in_window() -> None:
    starts = datetime(2030, 3, 1, 10, tzinfo=UTC)
    ends = starts + timedelta(hours=2)
    event: dict[str, Any] = {"status": "scheduled", "starts_at": starts, "ends_at": ends}
    assert check_in_refusal(event, starts - timedelta(minutes=31)) is not None
    assert check_in_refusal(event, starts - timedelta(minutes=30)) is None
    assert check_in_refusal(event, starts + timedelta(hours=5)) is None  # after the event: typing up the register
    assert check_in_refusal(event, ends + CHECK_IN_CLOSES_AFTER + timedelta(seconds=1)) is not None
    assert check_in_refusal({**event, "status": "cancelled"}, starts) == "this event is cancelled"


async def test_recorded_attendance_survives_cancelling_and_leaving(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, ana = new_person("owner"), new_person("ana")
    cid = await community_with(members, owner, [ana])
    starts = datetime.now(UTC) + timedelta(minutes=10)  # inside the check-in window, not started yet
    eid = (
        await schedule(
            events, cid, owner, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=1)).isoformat()
        )
    )["id"]
    await known_member(events, eid, ana)
    await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ana.headers)
    assert (await check_in(events, eid, owner, ana.user_id)).status_code == 201
    problem(await events.delete(f"/v1/events/{eid}/rsvp", headers=ana.headers), 409)
    await members.delete(f"/v1/communities/{cid}/members/{ana.user_id}", headers=ana.headers)
    marker = new_person("marker")
    await members.post(f"/v1/communities/{cid}/members", headers=marker.headers)
    await known_member(events, eid, marker)  # the leave was applied before this

    async def still_there() -> bool:
        listed = (await events.get(f"/v1/events/{eid}/attendees", headers=owner.headers)).json()["attendees"]
        return [a["user_id"] for a in listed] == [ana.user_id]

    assert await eventually(still_there, what="ana's recorded attendance")


async def test_a_person_banned_by_the_organiser_cannot_be_checked_in_as_a_walk_in(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    """Issue 7: a banned person who belongs to some other community could be walked in
    to the banning community's public event."""
    owner, bo, elsewhere = new_person("owner"), new_person("bo"), new_person("elsewhere")
    cid = await community_with(members, owner, [bo])
    other = await community_with(members, elsewhere, [bo])
    later = (await schedule(events, cid, owner, visibility="public"))["id"]
    await schedule(events, other, elsewhere)
    await known_member(events, later, bo)
    assert (
        await members.delete(f"/v1/communities/{cid}/members/{bo.user_id}?ban=true", headers=owner.headers)
    ).status_code == 204

    async def ban_applied() -> bool:
        return (
            await events.put(f"/v1/events/{later}/rsvp", json={"attendance": "in_person"}, headers=bo.headers)
        ).status_code == 403

    await eventually(ban_applied, what="bo's ban to reach the events service")
    eid, starts = await starting_soon(events, cid, owner, visibility="public")
    await until(starts)
    refused = await check_in(events, eid, owner, bo.user_id)
    nobody = await check_in(events, eid, owner, f"nobody-{secrets.token_hex(4)}")
    # The same answer as for an id nobody knows: a host learns nothing about who is banned.
    assert problem(refused, 422) == problem(nobody, 422)
    counted, listed = await counted_and_listed(events, eid, owner)
    assert listed == [] and counted["confirmed"]["in_person"] == 0
