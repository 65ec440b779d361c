"""Calendar exports and personal feeds through the events service, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime

import httpx
from icalendar import Calendar

from tests.events.conftest import community_with, event_body, eventually, known_member, schedule
from tests.support.api import Person, new_person, problem


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


async def linked_for_events(members: httpx.AsyncClient, owner_a: Person, a: str, owner_b: Person, b: str) -> None:
    proposed = await members.post(f"/v1/communities/{a}/links", json={"to_community_id": b}, headers=owner_a.headers)
    assert proposed.status_code == 201, proposed.text
    accepted = await members.post(f"/v1/communities/{b}/links/{proposed.json()['id']}/accept", headers=owner_b.headers)
    assert accepted.status_code == 200, accepted.text


async def schedule_cohosted(events: httpx.AsyncClient, organiser: str, host: Person, cohost: str) -> str:
    """A public event co-hosted by `cohost`, once the events service knows of the link."""

    async def attempt() -> str | None:
        body = event_body(visibility="public", cohost_community_ids=[cohost])
        response = await events.post(f"/v1/communities/{organiser}/events", json=body, headers=host.headers)
        if response.status_code in (403, 404, 422):
            return None
        assert response.status_code == 201, response.text
        event_id: str = response.json()["id"]
        return event_id

    found: str = await eventually(attempt, what="the events service to learn of the link")
    return found


async def test_a_hidden_community_s_event_shows_nowhere_outside_it(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    """Issue 7 item 2: hidden H organises a public event co-hosted by public A. Neither A's
    calendar nor any other view of the event shows it (or H) to anyone outside H; and a
    public event co-hosted by H does not name H to them."""
    ana, hal, member_of_a, outsider = new_person("ana"), new_person("hal"), new_person("mem"), new_person("out")
    a = await community_with(members, ana, [member_of_a], visibility="public")
    h = await community_with(members, hal, [], visibility="public")  # hidden once the events are made
    await linked_for_events(members, hal, h, ana, a)
    from_h = await schedule_cohosted(events, h, hal, a)
    from_a = await schedule_cohosted(events, a, ana, h)
    await known_member(events, from_a, member_of_a)
    hidden = await members.patch(f"/v1/communities/{h}", json={"visibility": "hidden"}, headers=hal.headers)
    assert hidden.status_code == 200, hidden.text

    async def hidden_from_outsiders() -> bool:
        return (await events.get(f"/v1/events/{from_h}", headers=outsider.headers)).status_code == 404

    await eventually(hidden_from_outsiders, what="the events service to learn that H is hidden")
    # Naming H as a co-host now answers as naming a community that is not linked at all.
    refusals = [
        await events.post(
            f"/v1/communities/{a}/events",
            json=event_body(visibility="public", cohost_community_ids=[cohost]),
            headers=ana.headers,
        )
        for cohost in (h, "0" * len(h))
    ]
    assert [r.status_code for r in refusals] == [422, 422]
    assert [r.json()["errors"][0]["field"] for r in refusals] == ["cohost_community_ids"] * 2

    for person in (outsider, member_of_a, ana):
        calendar = (await events.get(f"/v1/communities/{a}/calendar.ics", headers=person.headers)).content.decode()
        assert from_a in calendar and from_h not in calendar and h not in calendar, person
        missing = await events.get("/v1/events/000000000000000000000000", headers=person.headers)
        for path in (f"/v1/events/{from_h}", f"/v1/events/{from_h}/calendar.ics", f"/v1/events/{from_h}/attendees"):
            response = await events.get(path, headers=person.headers)
            assert (response.status_code, response.json()["detail"]) == (404, missing.json()["detail"]), path
        seat = {"attendance": "in_person"}
        refused = await events.put(f"/v1/events/{from_h}/rsvp", json=seat, headers=person.headers)
        assert refused.status_code == 404, refused.text
        shown = (await events.get(f"/v1/events/{from_a}", headers=person.headers)).json()
        assert shown["cohost_community_ids"] == [], person  # H is not named
        listed = (await events.get(f"/v1/communities/{a}/events", headers=person.headers)).json()["items"]
        assert [e["cohost_community_ids"] for e in listed if e["id"] == from_a] == [[]]
    # H's members see both, and H named.
    calendar = (await events.get(f"/v1/communities/{h}/calendar.ics", headers=hal.headers)).content.decode()
    assert from_h in calendar and from_a in calendar
    assert (await events.get(f"/v1/events/{from_a}", headers=hal.headers)).json()["cohost_community_ids"] == [h]
    assert (await events.get(f"/v1/events/{from_h}", headers=hal.headers)).status_code == 200


async def test_a_personal_feed_drops_an_event_its_holder_may_no_longer_see(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    """A place at a public event of a community that then becomes hidden: the holder (no
    member of it) no longer finds the event in their feed, nor anywhere else."""
    owner, guest = new_person("owner"), new_person("guest")
    cid = await community_with(members, owner, [], visibility="public")
    eid = (await schedule(events, cid, owner, visibility="public"))["id"]
    booked = await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=guest.headers)
    assert booked.status_code == 201, booked.text
    token = (await events.post("/v1/me/calendar-feed", headers=guest.headers)).json()["token"]
    assert eid in (await events.get(f"/v1/calendar/{token}.ics")).text
    hidden = await members.patch(f"/v1/communities/{cid}", json={"visibility": "hidden"}, headers=owner.headers)
    assert hidden.status_code == 200, hidden.text

    async def gone() -> bool:
        return (await events.get(f"/v1/events/{eid}", headers=guest.headers)).status_code == 404

    await eventually(gone, what="the events service to learn that the community is hidden")
    feed = await events.get(f"/v1/calendar/{token}.ics")
    assert feed.status_code == 200 and eid not in feed.text and cid not in feed.text
