"""Bad input to the events service is a 4xx problem naming the field, never a 500 or a
half-written record; and what is already stored always renders. On the real servers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from tests.events.conftest import at, event_body
from tests.support.api import Person, new_person, problem, problem_fields
from weft_events.formats.cpd_record_csv import render_csv
from weft_events.schemas import CpdRecordEntry
from weft_events.settings import EventsSettings
from weft_shared.service.cursors import encode_cursor
from weft_shared.settings import PlatformSettings

FIRST_DAY_EAST = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC
LAST_SECOND_WEST = "9999-12-31T23:59:59-14:00"  # after year 9999 in UTC
LAST_EVENING_WEST = "9999-12-31T20:00:00-14:00"
DEV = PlatformSettings(env="dev")


def time_lists(cid: str) -> list[str]:
    """Every route that takes a `from`/`to` window."""
    return [
        f"/v1/communities/{cid}/events",
        f"/v1/communities/{cid}/calendar.ics",
        "/v1/me/attendance",
        "/v1/me/attendance.csv",
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": FIRST_DAY_EAST}, "from"),
        ({"to": LAST_SECOND_WEST}, "to"),
        ({"from": "1800000000"}, "from"),  # an integer is not a time (schemathesis found it accepted)
        ({"to": "1800000000"}, "to"),
        ({"from": "2027-01-12T18:00:00"}, "from"),  # no offset
        ({"from": "2027-01-12"}, "from"),
        ({"to": "2027-02-30T00:00:00Z"}, "to"),
        ({"from": "2027-01-12T18:00:00 01:00"}, "from"),  # a '+' sent unencoded in a URL is a space
    ],
)
async def test_window_times_are_instants_on_every_list(
    events: httpx.AsyncClient, community: tuple[str, Person, str], params: dict[str, str], field: str
) -> None:
    cid, owner, _ = community
    for path in time_lists(cid):
        response = await events.get(path, params=params, headers=owner.headers)
        assert problem_fields(response, 422) == {field}, (path, response.text)


async def test_the_widest_window_allowed_is_answered(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    cid, owner, eid = community
    near_the_end = {"from": "9000-01-01T00:00:00+14:00", "to": "9000-12-31T23:59:59Z"}
    near_the_start = {"from": "1900-01-01T00:00:00-12:00", "to": "1900-12-31T00:00:00Z"}
    for params in (near_the_end, near_the_start):
        for path in time_lists(cid):
            response = await events.get(path, params=params, headers=owner.headers)
            assert response.status_code == 200, (path, response.text)
    # The event itself is found by a window given in any offset.
    window = {"from": "1900-01-01T00:00:00-12:00", "to": "9000-01-01T00:00:00+14:00"}
    listed = (await events.get(f"/v1/communities/{cid}/events", params=window, headers=owner.headers)).json()
    assert [e["id"] for e in listed["items"]] == [eid]


@pytest.mark.parametrize(
    "key",
    [
        {"starts_at": FIRST_DAY_EAST, "id": "000000000000000000000000"},
        {"starts_at": LAST_SECOND_WEST, "id": "000000000000000000000000"},
        {"starts_at": "2027-01-12T18:00:00", "id": "000000000000000000000000"},
        {"starts_at": 1800000000, "id": "000000000000000000000000"},
        {"starts_at": "2027-01-12T18:00:00Z", "id": {"$gt": ""}},
    ],
)
async def test_a_cursor_holding_a_bad_time_is_a_400_naming_cursor(
    events: httpx.AsyncClient, community: tuple[str, Person, str], key: dict[str, Any]
) -> None:
    cid, owner, _ = community
    cursor = encode_cursor(key)
    for path in (f"/v1/communities/{cid}/events", "/v1/me/attendance"):
        response = await events.get(path, params={"cursor": cursor}, headers=owner.headers)
        assert problem_fields(response, 400) == {"cursor"}, (path, response.text)


async def test_garbage_cursors_are_a_400_naming_cursor(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    cid, owner, _ = community
    for cursor in ("!!!", "é", "/w", "bnVsbA", "W10", "eyJub3QiOiJpdCJ9"):
        for path in (f"/v1/communities/{cid}/events", "/v1/me/attendance"):
            response = await events.get(path, params={"cursor": cursor}, headers=owner.headers)
            assert problem_fields(response, 400) == {"cursor"}, (path, cursor, response.text)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"starts_at": LAST_EVENING_WEST, "ends_at": "9000-01-01T00:00:00Z"}, "starts_at"),
        (
            {
                "starts_at": LAST_EVENING_WEST,
                "ends_at": "9000-01-01T00:00:00Z",
                "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3"},
            },
            "starts_at",
        ),
        ({"ends_at": LAST_SECOND_WEST}, "ends_at"),
        ({"registration_opens_at": FIRST_DAY_EAST}, "registration_opens_at"),
        ({"registration_closes_at": LAST_SECOND_WEST}, "registration_closes_at"),
        ({"starts_at": 1800000000}, "starts_at"),
        ({"starts_at": "1800000000"}, "starts_at"),
        ({"title": "Falls\nprevention"}, "title"),
        ({"title": "Falls prevention\x00"}, "title"),
        ({"venue": "Room 4\r\nSt Mary's"}, "venue"),
        ({"description": "Bring a case\x00"}, "description"),
        ({"timezone": "Europe/London\x00"}, "timezone"),
        ({"hosts": ["owner\x00"]}, "hosts.0"),
        ({"guest_speakers": ["Dr Ana\nSilva"]}, "guest_speakers.0"),
        ({"format": "online", "venue": None, "joining_link": "https://meet.example.org/a\x00b"}, "joining_link"),
        ({"recurrence": {"rrule": "FREQ=WEEKLY;\nCOUNT=3"}}, "recurrence.rrule"),
    ],
)
async def test_scheduling_refuses_bad_times_and_control_characters(
    events: httpx.AsyncClient, community: tuple[str, Person, str], fields: dict[str, Any], field: str
) -> None:
    cid, owner, eid = community
    response = await events.post(f"/v1/communities/{cid}/events", json=event_body(**fields), headers=owner.headers)
    assert problem_fields(response, 422) == {field}, response.text
    window = {"from": "1900-01-01T00:00:00Z", "to": "9000-01-01T00:00:00Z"}
    listed = (await events.get(f"/v1/communities/{cid}/events", params=window, headers=owner.headers)).json()
    assert [e["id"] for e in listed["items"]] == [eid]  # nothing half-written


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": LAST_EVENING_WEST}, "starts_at"),
        ({"ends_at": LAST_SECOND_WEST}, "ends_at"),
        ({"registration_closes_at": FIRST_DAY_EAST}, "registration_closes_at"),
        ({"title": "Falls\nprevention"}, "title"),
        ({"venue": "\x00"}, "venue"),
    ],
)
async def test_changing_an_event_refuses_them_too(
    events: httpx.AsyncClient, community: tuple[str, Person, str], change: dict[str, Any], field: str
) -> None:
    _, owner, eid = community
    before = (await events.get(f"/v1/events/{eid}", headers=owner.headers)).json()
    response = await events.patch(f"/v1/events/{eid}", json=change, headers=owner.headers)
    assert problem_fields(response, 422) == {field}, response.text
    assert (await events.get(f"/v1/events/{eid}", headers=owner.headers)).json() == before


async def test_a_series_near_the_end_of_the_range_is_scheduled_and_paged(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    """The range keeps every computation away from datetime's limits: a two-year series,
    reminders, a 14-day duration and calendar windows all fit near the last allowed
    time; a series may not run past it (a cursor could not hold its times)."""
    cid, owner, _ = community
    late = event_body(
        starts_at="8998-12-17T20:00:00-14:00",
        ends_at="8998-12-31T10:00:00-14:00",
        timezone="Pacific/Kiritimati",
        recurrence={"rrule": "FREQ=MONTHLY;COUNT=24"},
    )
    response = await events.post(f"/v1/communities/{cid}/events", json=late, headers=owner.headers)
    assert response.status_code == 201, response.text
    ids = response.json()["occurrence_ids"]
    assert len(ids) == 24
    too_late = {**late, "starts_at": "8999-12-17T20:00:00-14:00", "ends_at": "8999-12-31T10:00:00-14:00"}
    response = await events.post(f"/v1/communities/{cid}/events", json=too_late, headers=owner.headers)
    assert problem_fields(response, 422) == {"recurrence.rrule"}
    # Paged with cursors that hold times near the end of the range.
    seen: list[str] = []
    params = {"from": "8998-12-01T00:00:00Z", "to": "9000-12-31T23:59:59Z", "limit": "5"}
    while True:
        page = await events.get(f"/v1/communities/{cid}/events", params=params, headers=owner.headers)
        assert page.status_code == 200, page.text
        seen += [e["id"] for e in page.json()["items"]]
        if not page.json()["next_cursor"]:
            break
        params["cursor"] = page.json()["next_cursor"]
    assert seen == ids
    # The calendar's default window (from + 395 days) runs past the year 9000: still fine.
    window = {"from": "9000-01-01T00:00:00Z"}
    calendar = await events.get(f"/v1/communities/{cid}/calendar.ics", params=window, headers=owner.headers)
    assert calendar.status_code == 200, calendar.text
    assert len(Calendar.from_ical(calendar.content).walk("VEVENT")) == 11  # January to November 9000
    # Moving the series later would take it past the end: refused, nothing changed.
    moved = await events.patch(
        f"/v1/events/{ids[0]}", params={"series": "true"}, json={"starts_at": "9000-01-17T20:00:00-14:00",
        "ends_at": "9000-01-31T10:00:00-14:00"}, headers=owner.headers
    )  # fmt: skip
    assert problem_fields(moved, 422) == {"starts_at"}


async def test_a_create_response_equals_a_later_read(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    """BSON keeps milliseconds: given times are truncated to them before they are
    stored, so the answer to a create is what every later read says, byte for byte."""
    cid, owner, _ = community
    precise = event_body(
        starts_at=at(9).replace("+00:00", ".123456+00:00"),
        ends_at=at(9, 1).replace("+00:00", ".987654-02:00"),
        registration_closes_at=at(8).replace("+00:00", ".000999+00:00"),
    )
    response = await events.post(f"/v1/communities/{cid}/events", json=precise, headers=owner.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["starts_at"].endswith(".123000Z"), created["starts_at"]
    read = await events.get(f"/v1/events/{created['id']}", headers=owner.headers)
    created.pop("occurrence_ids")
    assert read.json() == created
    # Byte for byte: each time is written the same way in both answers.
    assert len(raw_times(response.content)) == 3
    assert raw_times(read.content) == raw_times(response.content)


def raw_times(body: bytes) -> dict[bytes, bytes]:
    return dict(re.findall(rb'"(starts_at|ends_at|registration_closes_at)":"([^"]+)"', body))


async def test_calendars_render_stored_text_with_line_breaks_and_nuls(
    events: httpx.AsyncClient,
    community: tuple[str, Person, str],
    database: Any,
    platform_env: dict[str, str],
) -> None:
    """Old data may hold what inputs now refuse: written straight into the events
    service's database, it must not break any calendar that shows it."""
    cid, owner, eid = community
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        db = client[platform_env["WEFT_EVENTS_DATABASE"]]
        await db.events.update_one(
            {"_id": eid},
            {"$set": {"title": "Falls\nprevention\x00", "venue": "Room 4\r\nSt Mary's", "description": "a\x00\nb"}},
        )
        await db.membership_communities.update_one({"_id": cid}, {"$set": {"name": "Wound\ncare\x00 network"}})
    finally:
        await client.close()
    for path in (f"/v1/communities/{cid}/calendar.ics", f"/v1/events/{eid}/calendar.ics"):
        response = await events.get(path, headers=owner.headers)
        assert response.status_code == 200, (path, response.text)
        assert b"\x00" not in response.content
        [vevent] = Calendar.from_ical(response.content).walk("VEVENT")
        assert str(vevent["SUMMARY"]) == "Falls prevention"
        assert str(vevent["LOCATION"]) == "Room 4 St Mary's"
    community_calendar = await events.get(f"/v1/communities/{cid}/calendar.ics", headers=owner.headers)
    assert str(Calendar.from_ical(community_calendar.content)["X-WR-CALNAME"]) == "Wound care network"
    problem(await events.get(f"/v1/events/{eid}/calendar.ics", headers=new_person("outsider").headers), 404)


@pytest.mark.parametrize("offsets", [[10**12], [0], [-60], [1440, 43_201]])
def test_reminder_offsets_out_of_range_stop_the_service_from_starting(offsets: list[int]) -> None:
    # A huge offset made `starts_at - offset` overflow: every scheduling answered 500.
    with pytest.raises(ValidationError) as caught:
        EventsSettings(platform=DEV, reminder_offsets_minutes=offsets)
    assert {e["loc"][0] for e in caught.value.errors()} == {"reminder_offsets_minutes"}
    assert EventsSettings(platform=DEV, reminder_offsets_minutes=[43_200, 1]).reminder_offsets_minutes == [43_200, 1]


def test_the_cpd_csv_drops_stored_control_characters_and_still_neutralises_formulas() -> None:
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    entry = CpdRecordEntry(
        event_id="e1",
        series_id=None,
        title="\x00=HYPERLINK(\x1b[2Jx)\nsecond line",
        community_id="c1",
        community_name="Wound\x07 care",
        format="in_person",
        attendance="in_person",
        timezone="Europe/London",
        starts_at=moment,
        ends_at=moment,
        local_date="2026-03-01",
        local_start="09:00",
        local_end="10:00",
        duration_minutes=60,
        checked_in_at=moment,
        checked_in_by="hana",
        event_status="scheduled",
    )
    text = render_csv([entry])
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)
    [_, row] = list(csv.reader(io.StringIO(text, newline="")))
    assert row[0] == "'=HYPERLINK([2Jx)\nsecond line"  # text, not a formula; its line break kept (quoted)
    assert row[2] == "Wound care"


@pytest.mark.parametrize("field", ["description", "hosts", "guest_speakers", "title"])
async def test_an_update_refuses_null_for_what_an_event_always_has(
    events: httpx.AsyncClient, community: tuple[str, Person, str], field: str
) -> None:
    """schemathesis found `{"hosts": null}` a 500; a null description stored a hole calendars can't render."""
    cid, owner, eid = community
    before = (await events.get(f"/v1/events/{eid}", headers=owner.headers)).json()
    response = await events.patch(f"/v1/events/{eid}", json={field: None}, headers=owner.headers)
    assert problem_fields(response, 422) == {field}
    assert (await events.get(f"/v1/events/{eid}", headers=owner.headers)).json() == before
    calendar = await events.get(f"/v1/communities/{cid}/calendar.ics", headers=owner.headers)
    assert calendar.status_code == 200
