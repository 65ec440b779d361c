"""Who is told what, through the gateway: real membership, events and notifications
processes; every notice comes from the message the owning service published."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.events.conftest import event_body, known_member, schedule
from tests.notifications.inboxes import handled, notifications_db, of_type, told, unread
from tests.support.api import Person, create_community, join, new_person
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually
from weft_cli.natsserver import NatsHandle
from weft_shared.contracts.subjects import community_wildcard

__all__ = ["notifications_db"]  # the fixture, for this module's tests

Doc = dict[str, Any]


async def community_of(web: httpx.AsyncClient, owner: Person, people: list[Person], **fields: Any) -> dict[str, Any]:
    community = await create_community(web, owner, **fields)
    for person in people:
        assert (await join(web, community["id"], person)).status_code == 201
    return community


async def test_a_join_decision_reaches_the_person_not_the_owner(web: httpx.AsyncClient) -> None:
    ana, ben, cy = new_person("ana"), new_person("ben"), new_person("cy")
    community = await create_community(web, ana, join_policy="approval", name="Falls Prevention")
    cid = community["id"]
    requests = {p.user_id: (await join(web, cid, p)).json()["request_id"] for p in (ben, cy)}

    approved = await web.post(f"/v1/communities/{cid}/requests/{requests[ben.user_id]}/approve", headers=ana.headers)
    assert approved.status_code == 200, approved.text
    declined = await web.post(f"/v1/communities/{cid}/requests/{requests[cy.user_id]}/decline", headers=ana.headers)
    assert declined.status_code == 200, declined.text

    welcome = await told(web, ben, "join_approved")
    assert welcome["title"] == "Welcome to Falls Prevention"
    assert welcome["actor_id"] == ana.user_id
    assert welcome["target"] == {"community_id": cid, "request_id": requests[ben.user_id]}
    no = await told(web, cy, "join_declined")
    assert "Falls Prevention" in no["title"] and no["target"]["request_id"] == requests[cy.user_id]
    # The owner made both decisions: she has only the two requests.
    assert sorted(i["type"] for i in await of_type(web, ana, "join_requested")) == ["join_requested"] * 2
    assert await of_type(web, ana, "join_approved") == await of_type(web, ana, "join_declined") == []


async def test_a_new_role_and_a_ban_reach_the_member(web: httpx.AsyncClient) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await community_of(web, ana, [ben], name="Wound Care")
    cid = community["id"]
    promoted = await web.patch(
        f"/v1/communities/{cid}/members/{ben.user_id}", json={"role": "facilitator"}, headers=ana.headers
    )
    assert promoted.status_code == 200, promoted.text
    role = await told(web, ben, "role_changed")
    assert role["title"] == "You are now a facilitator of Wound Care"
    assert role["text"] == "Your role in Wound Care changed from member to facilitator."

    banned = await web.delete(
        f"/v1/communities/{cid}/members/{ben.user_id}", params={"ban": "true"}, headers=ana.headers
    )
    assert banned.status_code == 204, banned.text
    removed = await told(web, ben, "removed")
    assert removed["title"] == "You were removed from Wound Care"
    assert "can no longer rejoin" in removed["text"]
    # Who removed them is not said (a moderator's safety); the owner is still not told.
    assert removed["actor_id"] is None and removed["community_id"] == cid
    assert await of_type(web, ana, "role_changed") == await of_type(web, ana, "removed") == []


async def test_barring_someone_who_never_joined_does_not_say_they_were_removed(web: httpx.AsyncClient) -> None:
    ana, dan = new_person("ana"), new_person("dan")
    community = await create_community(web, ana, name="Pain Clinic", join_policy="approval")
    cid = community["id"]
    asked = await join(web, cid, dan)
    assert asked.status_code == 202, asked.text
    declined = await web.post(
        f"/v1/communities/{cid}/requests/{asked.json()['request_id']}/decline", headers=ana.headers
    )
    assert declined.status_code == 200, declined.text
    barred = await web.delete(
        f"/v1/communities/{cid}/members/{dan.user_id}", params={"ban": "true"}, headers=ana.headers
    )
    assert barred.status_code == 204, barred.text
    notice = await told(web, dan, "removed")
    assert notice["title"] == "You can no longer join Pain Clinic"


async def test_a_community_turned_hidden_leaves_the_inboxes_of_those_outside_it(web: httpx.AsyncClient) -> None:
    ana, ben, cy = new_person("ana"), new_person("ben"), new_person("cy")
    community = await community_of(web, ana, [ben, cy], name="Sepsis Watch")
    cid = community["id"]
    published = await web.put(f"/v1/communities/{cid}/code-of-conduct", json={"text": "Be kind."}, headers=ana.headers)
    assert published.status_code == 200, published.text
    for person in (ben, cy):
        await told(web, person, "code_of_conduct_published")
    assert (await web.delete(f"/v1/communities/{cid}/members/{cy.user_id}", headers=cy.headers)).status_code == 204
    hidden = await web.patch(f"/v1/communities/{cid}", json={"visibility": "hidden"}, headers=ana.headers)
    assert hidden.status_code == 200, hidden.text

    async def cy_forgot() -> bool:
        return await of_type(web, cy, "code_of_conduct_published") == [] and await unread(web, cy) == 0

    await eventually(cy_forgot, what="the item to leave the inbox of the member who left")
    assert len(await of_type(web, ben, "code_of_conduct_published")) == 1  # still a member: kept
    assert await unread(web, ben) == 1


async def test_an_invitation_reaches_the_person_or_is_mailed_to_the_address(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[Doc], session_smtp: SmtpServer
) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await create_community(web, ana, join_policy="invite", name="Stroke Rehab")
    cid = community["id"]
    to_ben = await web.post(f"/v1/communities/{cid}/invitations", json={"user_id": ben.user_id}, headers=ana.headers)
    assert to_ben.status_code == 201, to_ben.text

    invited = await told(web, ben, "invitation_received")
    assert invited["title"].endswith("invited you to join Stroke Rehab")
    assert invited["target"] == {
        "community_id": cid,
        "invitation_id": to_ben.json()["id"],
        "accept_path": to_ben.json()["accept_path"],
    }

    address = f"new-{ben.user_id}@example.org"
    to_address = await web.post(f"/v1/communities/{cid}/invitations", json={"email": address}, headers=ana.headers)
    assert to_address.status_code == 201, to_address.text
    [mail] = await eventually(
        lambda: notifications_db.email_outbox.find({"to": address}).to_list(), what="the invitation mail"
    )
    assert mail["user_id"] is None and mail["notification_id"] is None
    assert mail["notice"]["type"] == "invitation_received" and mail["notice"]["community_id"] == cid
    assert "Stroke Rehab" in mail["notice"]["title"]
    assert mail["notice"]["link"] == "http://127.0.0.1:8080" + to_address.json()["accept_path"]
    # Nobody's inbox has it: the address belongs to no account.
    assert await notifications_db.inbox.count_documents({"key": mail["_id"].removeprefix("invitation:")}) == 0
    # And it arrives, with the accept link, at a real SMTP server.
    [arrived] = await eventually(lambda: _async(session_smtp.catcher.to(address)), what="the mail to arrive")
    assert "Stroke Rehab" in arrived["Subject"]
    text = arrived.get_body(preferencelist=("plain",))
    assert text is not None and mail["notice"]["link"] in text.get_content()
    assert arrived["List-Unsubscribe"] and arrived["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def _async(value: Any) -> Any:
    return value


async def test_a_new_code_of_conduct_reaches_every_member_but_its_publisher(web: httpx.AsyncClient) -> None:
    ana, ben, cy = new_person("ana"), new_person("ben"), new_person("cy")
    community = await community_of(web, ana, [ben, cy], name="Diabetes Educators")
    published = await web.put(
        f"/v1/communities/{community['id']}/code-of-conduct", json={"text": "Be kind."}, headers=ana.headers
    )
    assert published.status_code == 200, published.text
    for member in (ben, cy):
        item = await told(web, member, "code_of_conduct_published")
        assert item["title"] == "Diabetes Educators published a new code of conduct"
        assert item["target"] == {"community_id": community["id"], "version": "1"}
        assert await unread(web, member) == 1
    assert await of_type(web, ana, "code_of_conduct_published") == []


async def test_a_link_gives_each_owner_of_both_communities_one_notice(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    ana, alf, dan = new_person("ana"), new_person("alf"), new_person("dan")
    one = await community_of(web, ana, [alf], name="Falls North")
    other = await create_community(web, dan, name="Falls South")
    made_owner = await web.patch(
        f"/v1/communities/{one['id']}/members/{alf.user_id}", json={"role": "owner"}, headers=ana.headers
    )
    assert made_owner.status_code == 200, made_owner.text
    proposed = await web.post(
        f"/v1/communities/{one['id']}/links", json={"to_community_id": other["id"]}, headers=ana.headers
    )
    assert proposed.status_code == 201, proposed.text
    link_id = proposed.json()["id"]
    accepted = await web.post(f"/v1/communities/{other['id']}/links/{link_id}/accept", headers=dan.headers)
    assert accepted.status_code == 200, accepted.text

    # Both copies of both messages (one per community's scope) are handled ...
    for community in (one, other):
        subject = community_wildcard("weft", community["id"])
        assert await handled(notifications_db, nats_server.url, subject, ["link.proposed", "link.accepted"]) == 2
    # ... and each owner has one notice of each, except of what they did themselves.
    offer = await told(web, dan, "link_proposed")
    assert offer["title"] == "Falls North proposed a link with Falls South"
    assert offer["target"] == {"link_id": link_id, "community_id": other["id"], "other_community_id": one["id"]}
    assert (await told(web, alf, "link_proposed"))["community_id"] == one["id"]
    assert await of_type(web, ana, "link_proposed") == []
    for owner in (ana, alf):
        done = await told(web, owner, "link_accepted")
        assert done["title"] == "Falls North and Falls South are now linked"
    assert await of_type(web, dan, "link_accepted") == []


async def test_an_event_reaches_the_members_who_may_see_it(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    ana, ben, dan, dee, eve = (new_person(n) for n in ("ana", "ben", "dan", "dee", "eve"))
    organiser = await community_of(web, ana, [ben], name="Sepsis Watch")
    partner = await community_of(web, dan, [dee])
    stranger = await community_of(web, eve, [])
    link = await web.post(
        f"/v1/communities/{organiser['id']}/links", json={"to_community_id": partner["id"]}, headers=ana.headers
    )
    assert link.status_code == 201, link.text
    accepted = await web.post(f"/v1/communities/{partner['id']}/links/{link.json()['id']}/accept", headers=dan.headers)
    assert accepted.status_code == 200, accepted.text
    await handled(notifications_db, nats_server.url, community_wildcard("weft", partner["id"]), ["link.accepted"])

    only_ours = await schedule(web, organiser["id"], ana, title="Members huddle")
    for_partners = await schedule(web, organiser["id"], ana, title="Open huddle", visibility="partners")
    series = await schedule(
        web, organiser["id"], ana, title="Weekly round", recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"}
    )
    assert len(series["occurrence_ids"]) == 3
    subject = community_wildcard("weft", organiser["id"])
    assert await handled(notifications_db, nats_server.url, subject, ["event.scheduled"]) == 5

    def titles(items: list[Doc]) -> list[str]:
        return sorted(i["title"] for i in items)

    assert titles(await of_type(web, ben, "event_scheduled")) == [
        "New event in Sepsis Watch: Members huddle",
        "New event in Sepsis Watch: Open huddle",
        "New event series in Sepsis Watch: Weekly round",  # one notice for three occurrences
    ]
    [partners_only] = await of_type(web, dee, "event_scheduled")
    assert partners_only["target"] == {"community_id": organiser["id"], "event_id": for_partners["id"]}
    # dan is an owner of the linked community: a member too
    assert titles(await of_type(web, dan, "event_scheduled")) == ["New event in Sepsis Watch: Open huddle"]
    assert await of_type(web, eve, "event_scheduled") == []  # not linked
    assert await of_type(web, ana, "event_scheduled") == []  # she scheduled them
    [weekly] = [i for i in await of_type(web, ben, "event_scheduled") if "Weekly" in i["title"]]
    assert weekly["target"]["series_id"] and weekly["target"]["event_id"] in series["occurrence_ids"]
    assert only_ours["id"] != for_partners["id"] and stranger["id"]


async def test_a_hidden_communitys_event_reaches_only_its_members(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    ana, ben, cat, cy = (new_person(n) for n in ("ana", "ben", "cat", "cy"))
    hidden = await create_community(web, ana, visibility="hidden", name="Safeguarding Leads")
    invited = await web.post(
        f"/v1/communities/{hidden['id']}/invitations", json={"user_id": ben.user_id}, headers=ana.headers
    )
    assert invited.status_code == 201, invited.text
    accept = await web.post(invited.json()["accept_path"], json={}, headers=ben.headers)
    assert accept.status_code in (200, 201), accept.text
    cohost = await community_of(web, cat, [cy])
    link = await web.post(
        f"/v1/communities/{hidden['id']}/links", json={"to_community_id": cohost["id"]}, headers=ana.headers
    )
    assert link.status_code == 201, link.text
    accepted = await web.post(f"/v1/communities/{cohost['id']}/links/{link.json()['id']}/accept", headers=cat.headers)
    assert accepted.status_code == 200, accepted.text
    body = event_body(title="Case review", visibility="public", cohost_community_ids=[cohost["id"]])

    async def scheduled() -> bool:  # once the events service knows the link
        response = await web.post(f"/v1/communities/{hidden['id']}/events", json=body, headers=ana.headers)
        assert response.status_code in (201, 404, 422), response.text
        return response.status_code == 201

    await eventually(scheduled, what="the co-hosted event")
    await handled(notifications_db, nats_server.url, community_wildcard("weft", hidden["id"]), ["event.scheduled"])

    assert (await told(web, ben, "event_scheduled"))["title"] == "New event in Safeguarding Leads: Case review"
    assert await of_type(web, cy, "event_scheduled") == []  # a co-host's member does not learn of it
    assert await of_type(web, cat, "event_scheduled") == []


async def test_changes_and_cancellations_reach_the_people_coming(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    ana, ben, cy, dot = (new_person(n) for n in ("ana", "ben", "cy", "dot"))
    community = await community_of(web, ana, [ben, cy, dot], name="Falls Clinic")
    event = await schedule(web, community["id"], ana, title="Balance class", capacity={"in_person": 1})
    eid = event["id"]
    for person in (ben, cy):
        await known_member(web, eid, person)
    assert (
        await web.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=ben.headers)
    ).status_code == 201
    waitlisted = await web.put(f"/v1/events/{eid}/rsvp", json={"attendance": "in_person"}, headers=cy.headers)
    assert waitlisted.status_code == 201 and waitlisted.json()["status"] == "waitlisted", waitlisted.text

    renamed = await web.patch(f"/v1/events/{eid}", json={"title": "Balance and strength"}, headers=ana.headers)
    assert renamed.status_code == 200, renamed.text
    moved = await web.patch(f"/v1/events/{eid}", json={"venue": "Gym 2"}, headers=ana.headers)
    assert moved.status_code == 200, moved.text
    subject = community_wildcard("weft", community["id"])
    assert await handled(notifications_db, nats_server.url, subject, ["event.updated"]) == 2
    for person in (ben, cy):  # confirmed and waitlisted; one notice: the title alone is no news
        changed = await told(web, person, "event_changed")
        assert changed["title"] == "Balance and strength has changed" and "Gym 2" in changed["text"]
    assert await of_type(web, dot, "event_changed") == []  # no place

    assert (await web.delete(f"/v1/events/{eid}/rsvp", headers=ben.headers)).status_code == 204
    promoted = await told(web, cy, "rsvp_promoted")
    assert promoted["title"] == "You have a place at Balance and strength"
    assert promoted["target"] == {"community_id": community["id"], "event_id": eid}

    cancelled = await web.post(f"/v1/events/{eid}/cancel", headers=ana.headers)
    assert cancelled.status_code == 200, cancelled.text
    gone = await told(web, cy, "event_cancelled")
    assert gone["title"] == "Balance and strength is cancelled"
    assert await handled(notifications_db, nats_server.url, subject, ["event.cancelled"]) == 1
    assert await of_type(web, ben, "event_cancelled") == []  # gave up their place before
    assert await of_type(web, dot, "event_cancelled") == []


async def test_a_link_from_a_hidden_community_does_not_name_it_to_the_other_side(web: httpx.AsyncClient) -> None:
    ana, dan = new_person("ana"), new_person("dan")
    hidden = await create_community(web, ana, visibility="hidden", name="Quiet Room")
    other = await create_community(web, dan, name="Open Door")
    proposed = await web.post(
        f"/v1/communities/{hidden['id']}/links", json={"to_community_id": other["id"]}, headers=ana.headers
    )
    assert proposed.status_code == 201, proposed.text
    offer = await told(web, dan, "link_proposed")
    assert offer["title"] == "A community proposed a link with Open Door"
    assert offer["target"] == {"link_id": proposed.json()["id"], "community_id": other["id"]}
    assert hidden["id"] not in str(offer) and "Quiet Room" not in str(offer)
    assert offer["text"].startswith("Someone proposed")
    assert offer["actor_id"] is None and ana.user_id not in str(offer)  # its owner is not named either
