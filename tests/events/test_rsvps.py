"""RSVPs, waitlists and promotion, on the real servers."""

from __future__ import annotations

import asyncio

import httpx

from tests.events.conftest import (
    assert_counters_match_places,
    at,
    community_with,
    counted_and_listed,
    event_body,
    eventually,
    known_member,
    race_for_ten_seats,
    rsvp,
    schedule,
)
from tests.support.api import Person, create_community, join, new_person, problem
from tests.support.bus import stream_messages, types_of, wait_for_messages


async def test_waitlist_promotion_chain(members: httpx.AsyncClient, events: httpx.AsyncClient, nats_server) -> None:  # type: ignore[no-untyped-def]
    owner = new_person("owner")
    people = [new_person(n) for n in ("ana", "ben", "cai", "dee")]
    cid = await community_with(members, owner, people)
    eid = (await schedule(events, cid, owner, capacity={"in_person": 2}))["id"]
    for p in people:
        await known_member(events, eid, p)
    results = [(await rsvp(events, eid, p)).json() for p in people]
    assert [(r["status"], r["position"]) for r in results] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    again = await rsvp(events, eid, people[2])
    assert again.status_code == 200 and again.json()["position"] == 1  # idempotent

    ana, ben, cai, dee = people
    assert (await events.delete(f"/v1/events/{eid}/rsvp", headers=ana.headers)).status_code == 204
    mine = (await events.get(f"/v1/events/{eid}", headers=cai.headers)).json()["my_rsvp"]
    assert mine == {"status": "confirmed", "attendance": "in_person", "position": None}
    assert (await events.get(f"/v1/events/{eid}", headers=dee.headers)).json()["my_rsvp"]["position"] == 1
    await events.delete(f"/v1/events/{eid}/rsvp", headers=ben.headers)
    assert (await events.get(f"/v1/events/{eid}", headers=dee.headers)).json()["my_rsvp"]["status"] == "confirmed"
    problem(await events.delete(f"/v1/events/{eid}/rsvp", headers=ana.headers), 404)

    attendees = (await events.get(f"/v1/events/{eid}/attendees", headers=owner.headers)).json()
    assert [a["user_id"] for a in attendees["attendees"]] == [cai.user_id, dee.user_id]
    counts_only = (await events.get(f"/v1/events/{eid}/attendees", headers=cai.headers)).json()
    assert counts_only["attendees"] is None and counts_only["confirmed"]["in_person"] == 2

    rsvp_types = [t for t in types_of(await stream_messages(nats_server.url, f"weft.rsvp.*.*.{cid}"))]
    assert rsvp_types == [
        "org.weft.rsvp.confirmed.v1",
        "org.weft.rsvp.confirmed.v1",
        "org.weft.rsvp.waitlisted.v1",
        "org.weft.rsvp.waitlisted.v1",
        "org.weft.rsvp.cancelled.v1",
        "org.weft.rsvp.promoted.v1",
        "org.weft.rsvp.cancelled.v1",
        "org.weft.rsvp.promoted.v1",
    ]


async def test_fifty_people_race_for_ten_seats_three_times(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner = new_person("owner")
    people = [new_person(f"r{i}") for i in range(50)]
    cid = await community_with(members, owner, people)
    first = (await schedule(events, cid, owner))["id"]
    for p in people:
        await known_member(events, first, p)
    for _ in range(3):
        await race_for_ten_seats([events], nats_server.url, cid, owner, people)


async def test_who_may_rsvp(members: httpx.AsyncClient, events: httpx.AsyncClient) -> None:
    owner, member, outsider = new_person("owner"), new_person("member"), new_person("outsider")
    cid = await community_with(members, owner, [member])
    community_only = (await schedule(events, cid, owner))["id"]
    public = (await schedule(events, cid, owner, visibility="public"))["id"]
    problem(await rsvp(events, community_only, outsider), 404)  # can't see it at all
    assert (await rsvp(events, public, outsider)).status_code == 201  # public: anyone in the network
    await known_member(events, community_only, member)
    assert "attendance" in {
        e["field"] for e in problem(await rsvp(events, community_only, member, "online"), 422)["errors"]
    }
    problem(
        await events.put(f"/v1/events/{community_only}/rsvp", json={"attendance": {"$ne": 1}}, headers=member.headers),
        422,
    )
    problem(await events.post(f"/v1/events/{community_only}/cancel", headers=member.headers), 403)
    assert (await events.post(f"/v1/events/{community_only}/cancel", headers=owner.headers)).status_code == 200
    problem(await rsvp(events, community_only, member), 409)


async def test_leaving_the_community_gives_the_seat_to_the_next_person(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner, ana, ben = new_person("owner"), new_person("ana"), new_person("ben")
    cid = await community_with(members, owner, [ana, ben])
    eid = (await schedule(events, cid, owner, capacity={"in_person": 1}))["id"]
    await known_member(events, eid, ana)
    await known_member(events, eid, ben)
    assert (await rsvp(events, eid, ana)).json()["status"] == "confirmed"
    assert (await rsvp(events, eid, ben)).json()["status"] == "waitlisted"
    assert (
        await members.delete(f"/v1/communities/{cid}/members/{ana.user_id}", headers=ana.headers)
    ).status_code == 204

    async def promoted() -> bool:
        mine = (await events.get(f"/v1/events/{eid}", headers=ben.headers)).json()["my_rsvp"]
        return mine is not None and mine["status"] == "confirmed"

    await eventually(promoted, what="ben to be promoted after ana left")
    problem(await events.get(f"/v1/events/{eid}", headers=ana.headers), 404)  # no longer a member
    cancelled = await stream_messages(nats_server.url, f"weft.rsvp.cancelled.v1.{cid}")
    assert [m.body["data"]["reason"] for m in cancelled] == ["left_community"]


async def test_membership_messages_delivered_twice_change_nothing(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    """Publish every membership message of a community again (new Nats-Msg-Id, so
    JetStream stores and delivers them a second time): the events service's state
    and its messages must not change."""
    import nats

    owner, ana, ben = new_person("owner"), new_person("ana"), new_person("ben")
    cid = await community_with(members, owner, [ana, ben])
    eid = (await schedule(events, cid, owner, capacity={"in_person": 1}))["id"]
    await known_member(events, eid, ben)
    await rsvp(events, eid, ana)
    await rsvp(events, eid, ben)
    await members.delete(f"/v1/communities/{cid}/members/{ana.user_id}", headers=ana.headers)

    async def settled() -> bool:
        mine = (await events.get(f"/v1/events/{eid}", headers=ben.headers)).json()["my_rsvp"]
        return mine is not None and mine["status"] == "confirmed"

    await eventually(settled, what="the leave to be applied")
    before_event = (await events.get(f"/v1/events/{eid}/attendees", headers=owner.headers)).json()
    before_messages = types_of(await stream_messages(nats_server.url, f"weft.rsvp.*.*.{cid}"))

    membership_messages = [
        m for m in await stream_messages(nats_server.url, f"weft.*.*.*.{cid}") if m.body["source"] == "/weft/membership"
    ]
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    for m in membership_messages:
        await js.publish(m.subject, m.raw, headers={"Nats-Msg-Id": m.headers["Nats-Msg-Id"] + "-again"})
    await nc.close()
    # A marker after the copies: once the events service has applied it, the copies are behind it.
    marker = new_person("marker")
    await join(members, cid, marker)
    await known_member(events, eid, marker)

    assert (await events.get(f"/v1/events/{eid}/attendees", headers=owner.headers)).json() == before_event
    assert types_of(await stream_messages(nats_server.url, f"weft.rsvp.*.*.{cid}")) == before_messages
    problem(await events.get(f"/v1/events/{eid}", headers=ana.headers), 404)  # ana's "joined" did not come back


async def test_partner_visibility_through_a_community_link(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    ana, ben, partner = new_person("ana"), new_person("ben"), new_person("partner")
    a = (await create_community(members, ana))["id"]
    b = await community_with(members, ben, [partner])
    partners_event = (await schedule(events, a, ana, visibility="partners"))["id"]
    problem(await events.get(f"/v1/events/{partners_event}", headers=partner.headers), 404)
    link = (await members.post(f"/v1/communities/{a}/links", json={"to_community_id": b}, headers=ana.headers)).json()
    await members.post(f"/v1/communities/{b}/links/{link['id']}/accept", headers=ben.headers)
    await known_member(events, partners_event, partner)
    assert (await rsvp(events, partners_event, partner)).json()["status"] == "confirmed"
    await members.delete(f"/v1/communities/{a}/links/{link['id']}", headers=ana.headers)

    async def hidden_again() -> bool:
        return (await events.get(f"/v1/events/{partners_event}", headers=partner.headers)).status_code == 404

    await eventually(hidden_again, what="the removed link to hide the event again")


async def test_closed_registration_refuses_rsvps(members: httpx.AsyncClient, events: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime, timedelta

    owner, ana = new_person("owner"), new_person("ana")
    cid = await community_with(members, owner, [ana])
    closes = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    eid = (await schedule(events, cid, owner, registration_closes_at=closes))["id"]
    await known_member(events, eid, ana)
    await asyncio.sleep(4.5)
    body = problem(await rsvp(events, eid, ana), 409)
    assert "closed" in body["detail"]
    view = (await events.get(f"/v1/events/{eid}", headers=ana.headers)).json()
    assert view["my_rsvp"] is None and view["seats_left"]["in_person"] is None


async def test_archiving_the_community_cancels_its_upcoming_events(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner, ana = new_person("owner"), new_person("ana")
    cid = await community_with(members, owner, [ana])
    first = (await schedule(events, cid, owner))["id"]
    second = (await schedule(events, cid, owner))["id"]
    await known_member(events, first, ana)
    await rsvp(events, first, ana)
    assert (await members.post(f"/v1/communities/{cid}/archive", headers=owner.headers)).status_code == 200

    async def all_cancelled() -> bool:
        views = [(await events.get(f"/v1/events/{e}", headers=owner.headers)).json() for e in (first, second)]
        return all(v["status"] == "cancelled" for v in views)

    await eventually(all_cancelled, what="the archived community's events to be cancelled")
    cancelled = await stream_messages(nats_server.url, f"weft.event.cancelled.v1.{cid}")
    assert sorted(m.body["data"]["event"]["id"] for m in cancelled) == sorted([first, second])
    problem(await events.post(f"/v1/communities/{cid}/events", json=event_body(), headers=owner.headers), 409)


async def test_a_demoted_facilitator_can_no_longer_schedule(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner, fay = new_person("owner"), new_person("fay")
    cid = await community_with(members, owner, [fay])
    await members.patch(
        f"/v1/communities/{cid}/members/{fay.user_id}", json={"role": "facilitator"}, headers=owner.headers
    )
    await schedule(events, cid, fay)  # waits until the promotion is known
    await members.patch(f"/v1/communities/{cid}/members/{fay.user_id}", json={"role": "member"}, headers=owner.headers)

    async def refused() -> bool:
        response = await events.post(f"/v1/communities/{cid}/events", json=event_body(), headers=fay.headers)
        return response.status_code == 403

    await eventually(refused, what="the demotion to reach the events service")


async def test_more_seats_promote_the_waitlist_in_order(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner = new_person("owner")
    people = [new_person(n) for n in ("ana", "ben", "cai", "dee", "eve")]
    cid = await community_with(members, owner, people)
    eid = (await schedule(events, cid, owner, format="hybrid", joining_link="https://meet.example.org/x",
                          capacity={"in_person": 1, "online": 1}))["id"]  # fmt: skip
    for p in people:
        await known_member(events, eid, p)
    ana, ben, cai, dee, eve = people
    for person, mode in ((ana, "in_person"), (ben, "in_person"), (cai, "in_person"), (dee, "in_person")):
        await rsvp(events, eid, person, mode)
    assert (await rsvp(events, eid, eve, "online")).json()["status"] == "confirmed"
    # Moving to the other mode is a new place at the end of that waitlist.
    moved = await rsvp(events, eid, ben, "online")
    assert moved.status_code == 201 and moved.json() == {"status": "waitlisted", "attendance": "online", "position": 1}
    assert (await rsvp(events, eid, dee)).json()["position"] == 2  # cai, then dee

    grown = await events.patch(
        f"/v1/events/{eid}", json={"capacity": {"in_person": 3, "online": 1}}, headers=owner.headers
    )
    assert grown.status_code == 200, grown.text
    assert grown.json()["seats_left"] == {"in_person": 0, "online": 0}
    assert grown.json()["waitlisted"] == {"in_person": 0, "online": 1}
    counted, listed = await counted_and_listed(events, eid, owner)
    assert_counters_match_places(counted, listed)
    assert [(a["user_id"], a["status"], a["position"]) for a in listed] == [
        (ana.user_id, "confirmed", None),
        (cai.user_id, "confirmed", None),
        (dee.user_id, "confirmed", None),
        (eve.user_id, "confirmed", None),
        (ben.user_id, "waitlisted", 1),
    ]
    messages = await wait_for_messages(nats_server.url, f"weft.*.*.*.{cid}", at_least=9)
    tail = [(m.type, m.body["data"].get("rsvp", {}).get("user_id")) for m in messages][-3:]
    assert tail == [
        ("org.weft.event.updated.v1", None),
        ("org.weft.rsvp.promoted.v1", cai.user_id),
        ("org.weft.rsvp.promoted.v1", dee.user_id),
    ]


async def _linked(members: httpx.AsyncClient, a: str, a_owner: Person, b: str, b_owner: Person) -> str:
    link = (
        await members.post(f"/v1/communities/{a}/links", json={"to_community_id": b}, headers=a_owner.headers)
    ).json()
    accepted = await members.post(f"/v1/communities/{b}/links/{link['id']}/accept", headers=b_owner.headers)
    assert accepted.status_code == 200, accepted.text
    link_id: str = link["id"]
    return link_id


async def test_a_banned_person_may_not_book_the_organisers_or_a_cohosts_public_events(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    """Issue 7: the events service knew "not a member" but not "banned", so a banned
    person booked the community's public events and was shown their joining link."""
    owner, co_owner, bo, cy = new_person("owner"), new_person("co-owner"), new_person("bo"), new_person("cy")
    cid = await community_with(members, owner, [bo])
    co = await community_with(members, co_owner, [cy])
    await _linked(members, cid, owner, co, co_owner)
    online = {"format": "online", "joining_link": "https://meet.example.org/falls", "visibility": "public"}
    eid = (await schedule(events, cid, owner, **online))["id"]
    cohosted = (await schedule(events, cid, owner, **online, cohost_community_ids=[co]))["id"]
    await known_member(events, eid, bo)
    assert (await rsvp(events, eid, bo, "online")).status_code == 201
    for target, community, by in ((bo, cid, owner), (cy, co, co_owner)):
        banned = await members.delete(
            f"/v1/communities/{community}/members/{target.user_id}?ban=true", headers=by.headers
        )
        assert banned.status_code == 204

    async def ban_applied() -> bool:  # bo's place is dropped, like a removed member's
        listed = (await events.get(f"/v1/events/{eid}/attendees", headers=owner.headers)).json()["attendees"]
        return listed == []

    await eventually(ban_applied, what="bo's ban to reach the events service")

    async def cohost_ban_applied() -> bool:
        return (await rsvp(events, cohosted, cy, "online")).status_code == 403

    await eventually(cohost_ban_applied, what="cy's ban by the co-host to reach the events service")
    shown = (await events.get(f"/v1/events/{eid}", headers=bo.headers)).json()  # public: still visible
    assert shown["joining_link"] is None and shown["my_rsvp"] is None
    for person, event_id in ((bo, eid), (bo, cohosted), (cy, cohosted)):
        refused = problem(await rsvp(events, event_id, person, "online"), 403)
        assert "banned" in refused["detail"]
    assert (await rsvp(events, eid, cy, "online")).status_code == 201  # a co-host's ban does not reach other events
    counted, listed = await counted_and_listed(events, cohosted, owner)
    assert listed == [] and counted["confirmed"]["online"] == 0


async def test_removing_a_link_cancels_the_places_it_gave(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 7: fay (of W) booked P's partners-only event; P's owner removed the W-P link:
    her place goes (rsvp.cancelled, `link_removed`), the next on the waitlist gets the
    seat, and the event leaves her feed. P's own member keeps theirs."""
    import nats

    p_owner, w_owner = new_person("p-owner"), new_person("w-owner")
    fay, gus, pam = new_person("fay"), new_person("gus"), new_person("pam")
    p = await community_with(members, p_owner, [pam])
    w = await community_with(members, w_owner, [fay, gus])
    link_id = await _linked(members, p, p_owner, w, w_owner)
    eid = (
        await schedule(
            events, p, p_owner, visibility="partners", capacity={"in_person": 1}, starts_at=at(3), ends_at=at(3, 1)
        )
    )["id"]
    for person in (fay, gus, pam):
        await known_member(events, eid, person)
    assert (await rsvp(events, eid, fay)).json()["status"] == "confirmed"
    assert (await rsvp(events, eid, pam)).json()["status"] == "waitlisted"
    assert (await rsvp(events, eid, gus)).json()["status"] == "waitlisted"
    feed_path = f"/v1/calendar/{(await events.post('/v1/me/calendar-feed', headers=fay.headers)).json()['token']}.ics"
    assert eid in (await events.get(feed_path)).text
    removed = await members.delete(f"/v1/communities/{p}/links/{link_id}", headers=p_owner.headers)
    assert removed.status_code == 204

    async def applied() -> bool:
        listed = (await events.get(f"/v1/events/{eid}/attendees", headers=p_owner.headers)).json()["attendees"]
        return [(a["user_id"], a["status"]) for a in listed] == [(pam.user_id, "confirmed")]

    await eventually(applied, what="the removed link to cancel fay's and gus's places")
    problem(await events.get(f"/v1/events/{eid}", headers=fay.headers), 404)
    assert eid not in (await events.get(feed_path)).text
    rsvp_messages = await stream_messages(nats_server.url, f"weft.rsvp.*.*.{p}")
    ended = [(m.type, m.body["data"]["rsvp"]["user_id"], m.body["data"].get("reason")) for m in rsvp_messages[3:]]
    # gus (waitlisted) goes first, so only pam is promoted.
    assert ended == [
        ("org.weft.rsvp.cancelled.v1", gus.user_id, "link_removed"),
        ("org.weft.rsvp.cancelled.v1", fay.user_id, "link_removed"),
        ("org.weft.rsvp.promoted.v1", pam.user_id, None),
    ]

    # The link's messages again (new Nats-Msg-Id, so JetStream delivers them again): nothing changes.
    link_messages = await stream_messages(nats_server.url, f"weft.link.*.*.{p}")
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    for m in link_messages:
        await js.publish(m.subject, m.raw, headers={"Nats-Msg-Id": m.headers["Nats-Msg-Id"] + "-again"})
    await nc.close()
    marker = new_person("marker")
    await join(members, p, marker)
    await known_member(events, eid, marker)
    assert len(await stream_messages(nats_server.url, f"weft.rsvp.*.*.{p}")) == len(rsvp_messages)
    assert await applied()
    problem(await events.get(f"/v1/events/{eid}", headers=fay.headers), 404)
