"""Calendar exports and personal feeds through the events service, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime

import httpx
from icalendar import Calendar

from tests.events.conftest import community_with, known_member, schedule
from tests.support.api import new_person, problem


def parse(response: httpx.Response) -> Calendar:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


async def test_community_and_event_calendars(members: httpx.AsyncClient, events: httpx.AsyncClient) -> None:
    owner, outsider = new_person("owner"), new_person("outsider")
    cid = await community_with(members, owner, [], visibility="hidden")
    series = await schedule(events, cid, owner, recurrence={"rrule": "FREQ=MONTHLY;COUNT=3"})
    ids = series["occurrence_ids"]
    await events.post(f"/v1/events/{ids[2]}/cancel", headers=owner.headers)

    calendar = parse(await events.get(f"/v1/communities/{cid}/calendar.ics", headers=owner.headers))
    vevents = calendar.walk("VEVENT")
    assert sorted(str(v["UID"]) for v in vevents) == sorted(f"{i}@weft" for i in ids)
    assert {v["DTSTART"].params["TZID"] for v in vevents} == {"Europe/London"}
    assert calendar.walk("VTIMEZONE")
    assert [str(v["STATUS"]) for v in sorted(vevents, key=lambda v: v["DTSTART"].dt)] == [
        "CONFIRMED",
        "CONFIRMED",
        "CANCELLED",
    ]
    one = parse(await events.get(f"/v1/events/{ids[0]}/calendar.ics", headers=owner.headers))
    [only] = one.walk("VEVENT")
    stored = (await events.get(f"/v1/events/{ids[0]}", headers=owner.headers)).json()
    # Times round-trip: the local TZID time is the same instant as the stored UTC one.
    assert only["DTSTART"].dt.timestamp() == datetime.fromisoformat(stored["starts_at"]).timestamp()
    problem(await events.get(f"/v1/communities/{cid}/calendar.ics", headers=outsider.headers), 404)
    problem(await events.get(f"/v1/events/{ids[0]}/calendar.ics", headers=outsider.headers), 404)


async def test_personal_feed_without_headers_and_revocation(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, ana = new_person("owner"), new_person("ana")
    cid = await community_with(members, owner, [ana])
    link = "https://meet.example.org/feed-room"
    online = await schedule(events, cid, owner, format="online", venue=None, joining_link=link)
    other = await schedule(events, cid, owner)
    await known_member(events, online["id"], ana)
    await events.put(f"/v1/events/{online['id']}/rsvp", json={"attendance": "online"}, headers=ana.headers)

    created = await events.post("/v1/me/calendar-feed", headers=ana.headers)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["url"].endswith(f"/v1/calendar/{token}.ics")
    feed = parse(await events.get(f"/v1/calendar/{token}.ics"))  # no Authorization header
    [vevent] = feed.walk("VEVENT")
    assert str(vevent["UID"]) == f"{online['id']}@weft" and other["id"] not in feed.to_ical().decode()
    assert link in feed.to_ical().decode()  # a confirmed place: the link is hers to see

    replaced = (await events.post("/v1/me/calendar-feed", headers=ana.headers)).json()["token"]
    problem(await events.get(f"/v1/calendar/{token}.ics"), 404)  # a new feed revokes the old one
    assert (await events.delete("/v1/me/calendar-feed", headers=ana.headers)).status_code == 204
    problem(await events.get(f"/v1/calendar/{replaced}.ics"), 404)
    problem(await events.get("/v1/calendar/not-a-real-token.ics"), 404)


async def test_calendars_show_the_joining_link_only_with_a_confirmed_place(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, ana, ben = new_person("owner"), new_person("ana"), new_person("ben")
    cid = await community_with(members, owner, [ana, ben])
    link = "https://meet.example.org/only-for-confirmed"
    eid = (await schedule(events, cid, owner, format="online", venue=None, joining_link=link, capacity={"online": 1}))[
        "id"
    ]
    await known_member(events, eid, ben)
    await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "online"}, headers=ana.headers)
    await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "online"}, headers=ben.headers)  # waitlisted
    for path in (f"/v1/communities/{cid}/calendar.ics", f"/v1/events/{eid}/calendar.ics"):
        assert link in parse(await events.get(path, headers=ana.headers)).to_ical().decode()
        assert link not in parse(await events.get(path, headers=ben.headers)).to_ical().decode()
