"""Scheduling and reading events on the real servers, fed by real membership messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.events.conftest import at, community_with, event_body, known_member, schedule
from tests.support.api import create_community, new_person, problem, problem_fields
from tests.support.bus import stream_messages


def next_tuesday_evening() -> datetime:
    """18:00 UTC on a Tuesday at least a week ahead."""
    day = datetime.now(UTC).replace(hour=18, minute=0, second=0, microsecond=0) + timedelta(days=7)
    return day + timedelta(days=(1 - day.weekday()) % 7)


async def test_staff_schedule_members_see_outsiders_do_not(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, member, outsider = new_person("owner"), new_person("member"), new_person("outsider")
    cid = await community_with(members, owner, [member])
    created = await schedule(events, cid, owner, capacity={"in_person": 12})
    assert created["community_id"] == cid and created["can_manage"] is True
    assert created["seats_left"] == {"in_person": 12, "online": None}
    await known_member(events, created["id"], member)
    problem(await events.get(f"/v1/events/{created['id']}", headers=outsider.headers), 404)
    problem(await events.post(f"/v1/communities/{cid}/events", json=event_body(), headers=member.headers), 403)
    listed = (await events.get(f"/v1/communities/{cid}/events", headers=member.headers)).json()
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    problem(await events.get("/v1/events/000000000000000000000000", headers=member.headers), 404)


async def test_bad_input_is_a_4xx_naming_the_field(members: httpx.AsyncClient, events: httpx.AsyncClient) -> None:
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    await schedule(events, cid, owner)  # the community is known from here on
    cases = {
        "ends_at": event_body(ends_at=at(6)),
        "timezone": event_body(timezone="Mars/Olympus_Mons"),
        "capacity.in_person": event_body(capacity={"in_person": -1}),
        "joining_link": event_body(format="online", venue=None),
        "recurrence.rrule": event_body(recurrence={"rrule": "FREQ=DAILY;COUNT=3"}),
        "starts_at": event_body(starts_at="2030-01-01T10:00:00"),
        "format": event_body(format="telepathy"),
        "title": event_body(title={"$ne": None}),
    }
    for field, body in cases.items():
        response = await events.post(f"/v1/communities/{cid}/events", json=body, headers=owner.headers)
        assert field in problem_fields(response, 422), (field, response.text)
    unbounded = event_body(recurrence={"rrule": "FREQ=WEEKLY;BYDAY=TU"})
    assert "recurrence.rrule" in problem_fields(
        await events.post(f"/v1/communities/{cid}/events", json=unbounded, headers=owner.headers), 422
    )
    problem(await events.post("/v1/communities/nope/events", json=event_body(), headers=owner.headers), 404)
    listed = (await events.get(f"/v1/communities/{cid}/events", headers=owner.headers)).json()
    assert len(listed["items"]) == 1  # nothing half-written


async def test_recurring_series_edit_and_cancel_change_the_future_only(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    tuesday = next_tuesday_evening()
    series = await schedule(
        events,
        cid,
        owner,
        starts_at=tuesday.isoformat(),
        ends_at=(tuesday + timedelta(hours=2)).isoformat(),
        recurrence={"rrule": "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"},  # the first occurrence is starts_at
    )
    ids = series["occurrence_ids"]
    assert len(ids) == 6 and series["series_id"]
    third = ids[2]
    renamed = await events.patch(
        f"/v1/events/{third}?series=true", json={"title": "Renamed huddle"}, headers=owner.headers
    )
    assert renamed.status_code == 200, renamed.text
    titles = [(await events.get(f"/v1/events/{i}", headers=owner.headers)).json()["title"] for i in ids]
    assert titles == ["Falls prevention huddle"] * 2 + ["Renamed huddle"] * 4
    cancelled = await events.post(f"/v1/events/{ids[4]}/cancel?series=true", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"
    statuses = [(await events.get(f"/v1/events/{i}", headers=owner.headers)).json()["status"] for i in ids]
    assert statuses == ["scheduled"] * 4 + ["cancelled"] * 2
    # Wall-clock time is kept across occurrences (DST-safe expansion in the event's timezone).
    local_hours = set()
    from zoneinfo import ZoneInfo

    for i in ids:
        start = datetime.fromisoformat((await events.get(f"/v1/events/{i}", headers=owner.headers)).json()["starts_at"])
        local_hours.add(start.astimezone(ZoneInfo("Europe/London")).strftime("%H:%M"))
    assert len(local_hours) == 1


async def test_the_joining_link_is_only_for_confirmed_places(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner, ana, ben = new_person("owner"), new_person("ana"), new_person("ben")
    cid = await community_with(members, owner, [ana, ben])
    link = "https://meet.example.org/secret-room-4711"
    created = await schedule(events, cid, owner, format="online", venue=None, joining_link=link, capacity={"online": 1})
    eid = created["id"]
    await known_member(events, eid, ana)
    await known_member(events, eid, ben)
    assert (await events.get(f"/v1/events/{eid}", headers=ana.headers)).json()["joining_link"] is None
    first = await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "online"}, headers=ana.headers)
    assert first.status_code == 201 and first.json()["status"] == "confirmed"
    second = await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "online"}, headers=ben.headers)
    assert second.json() == {"status": "waitlisted", "attendance": "online", "position": 1}
    assert (await events.get(f"/v1/events/{eid}", headers=ana.headers)).json()["joining_link"] == link
    assert (await events.get(f"/v1/events/{eid}", headers=ben.headers)).json()["joining_link"] is None
    everything = await stream_messages(nats_server.url, f"weft.*.*.*.{cid}")
    assert everything and not any(link.encode() in m.raw for m in everything)
    # An online-only event offers no in-person place, and the refusal changes nothing.
    wrong_mode = await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ana.headers)
    assert problem_fields(wrong_mode, 422) == {"attendance"}
    assert (await events.get(f"/v1/events/{eid}", headers=ana.headers)).json()["my_rsvp"]["status"] == "confirmed"
