"""The authorization matrix (issue 7 item 13): every operation of the gateway's merged
OpenAPI document x every kind of caller x every community visibility, driven over
HTTP through the real gateway and services, with each expected status written down
once, in `MATRIX` below.

For every case it also checks that
- an allowed answer shows no more than the caller may see (`CONTENT_CHECKS`: the
  details and member count of a private community, an event's attendee list);
- a refused request (any 4xx) changed nothing: the stored documents of the case's
  community (and its people) are the same before and after;
- nothing of the hidden community leaks to a caller outside it: no response names
  its id, its name, one of its events or one of its members (whichever community's
  page it is on);
- a 404 for the hidden community (or its events and links) is byte-identical to the
  404 for ids that do not exist (the ids themselves swapped).

The communities and people are set up once for the module. Cases run in the order
of the table (visibility by visibility, caller by caller), which matters where an
allowed request changes what a later one finds (`PUT rsvp` gives the callers the
places `DELETE rsvp` then cancels). A request whose allowed outcome would change the
caller's or a target's standing uses a spare set up for that case (a member to
remove, a join request to decide, an occurrence to cancel, an invitation to accept).
Archiving is last: it makes the community read-only.

Timing (404 vs 403) is not asserted here; `bench/scenarios/not_found_timing.py`
prints both latencies.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.events.conftest import event_body
from tests.support.api import Person, create_community, join, new_person
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.testing import ServiceProcess
from weft_notifications.domain.unsubscribe_tokens import UnsubscribeSubject, sign
from weft_notifications.settings import DEV_UNSUBSCRIBE_KEY

ROLES = ("anonymous", "outsider", "pending", "banned", "member", "facilitator", "owner")
VISIBILITIES = ("public", "private", "hidden")
INSIDE = ("member", "facilitator", "owner")  # who may know a hidden community


def same(statuses: str) -> tuple[str, str, str]:
    return (statuses, statuses, statuses)


# Expected status per caller, in the order of ROLES:
#            anonymous outsider pending banned member facilitator owner
# for a community that is (public, private, hidden). Every community joins by
# approval and has a code of conduct (version 1); its event is `public`.
# Outsiders are a new person for every case.
MATRIX: dict[str, tuple[str, str, str]] = {
    # -- communities ------------------------------------------------------------------------------------
    "POST /v1/communities": same("401 201 201 201 201 201 201"),
    "GET /v1/communities": same("401 200 200 200 200 200 200"),
    "GET /v1/communities/{community_id}": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "PATCH /v1/communities/{community_id}": (  # the same name again: allowed, and changes nothing
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "PUT /v1/communities/{community_id}/code-of-conduct": (  # the same text again
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "POST /v1/communities/{community_id}/code-of-conduct/accept": (
        "401 403 403 403 204 204 204",
        "401 403 403 403 204 204 204",
        "401 404 404 404 204 204 204",
    ),
    # -- members and join requests ----------------------------------------------------------------------
    "POST /v1/communities/{community_id}/members": (  # an outsider's request is pending; a banned person is refused
        "401 202 202 403 200 200 200",
        "401 202 202 403 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "GET /v1/communities/{community_id}/members": (
        "401 200 200 200 200 200 200",
        "401 403 403 403 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "PATCH /v1/communities/{community_id}/members/{user_id}": (  # the member keeps the role "member"
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "DELETE /v1/communities/{community_id}/members/{user_id}": (  # a spare member is removed
        "401 403 403 403 403 204 204",
        "401 403 403 403 403 204 204",
        "401 404 404 404 403 204 204",
    ),
    "GET /v1/communities/{community_id}/requests": (
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "POST /v1/communities/{community_id}/requests/{request_id}/approve": (  # a spare request
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "POST /v1/communities/{community_id}/requests/{request_id}/decline": (
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "POST /v1/communities/{community_id}/invitations": (
        "401 403 403 403 403 201 201",
        "401 403 403 403 403 201 201",
        "401 404 404 404 403 201 201",
    ),
    "DELETE /v1/communities/{community_id}/invitations/{invitation_id}": (  # a pending invitation
        "401 403 403 403 403 204 204",
        "401 403 403 403 403 204 204",
        "401 404 404 404 403 204 204",
    ),
    # An invitation made for the caller (a spare pending person for "pending"): the way into any community.
    # Members cannot be invited (409): theirs is one made for someone else.
    "POST /v1/invitations/{token}/accept": same("401 200 200 403 403 403 403"),
    # Looking at an invitation first is refused exactly as accepting it would be.
    "GET /v1/invitations/{token}": same("401 200 200 403 403 403 403"),
    # -- links --------------------------------------------------------------------------------------------
    "POST /v1/communities/{community_id}/links": (
        "401 403 403 403 403 403 201",
        "401 403 403 403 403 403 201",
        "401 404 404 404 403 403 201",
    ),
    "GET /v1/communities/{community_id}/links": (
        "401 200 200 200 200 200 200",
        "401 403 403 403 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "POST /v1/communities/{community_id}/links/{link_id}/accept": (  # a link proposed to the community
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "DELETE /v1/communities/{community_id}/links/{link_id}": (
        "401 403 403 403 403 403 204",
        "401 403 403 403 403 403 204",
        "401 404 404 404 403 403 204",
    ),
    # -- people -------------------------------------------------------------------------------------------
    "GET /v1/me": same("401 200 200 200 200 200 200"),
    "PUT /v1/me/profile": same("401 200 200 200 200 200 200"),
    # Erasing oneself: every signed-in caller may; the case erases a throwaway person, never the role's.
    "DELETE /v1/me": same("401 202 202 202 202 202 202"),
    "GET /v1/people": same("401 200 200 200 200 200 200"),
    # -- events -------------------------------------------------------------------------------------------
    "POST /v1/communities/{community_id}/events": (
        "401 403 403 403 403 201 201",
        "401 403 403 403 403 201 201",
        "401 404 404 404 403 201 201",
    ),
    "GET /v1/communities/{community_id}/events": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "GET /v1/events/{event_id}": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "PATCH /v1/events/{event_id}": (  # the same title again
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    "POST /v1/events/{event_id}/cancel": (  # a spare occurrence
        "401 403 403 403 403 200 200",
        "401 403 403 403 403 200 200",
        "401 404 404 404 403 200 200",
    ),
    # A public event: whoever may see it may book it, but not someone its community banned.
    "PUT /v1/events/{event_id}/rsvp": (
        "401 201 201 403 201 201 201",
        "401 201 201 403 201 201 201",
        "401 404 404 404 201 201 201",
    ),
    "DELETE /v1/events/{event_id}/rsvp": (  # the places just taken; a new outsider (or the banned) has none
        "401 404 204 404 204 204 204",
        "401 404 204 404 204 204 204",
        "401 404 404 404 204 204 204",
    ),
    "GET /v1/events/{event_id}/attendees": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "POST /v1/events/{event_id}/check-ins": (  # the member, a week early: hosts get past the checks to 409
        "401 403 403 403 403 409 409",
        "401 403 403 403 403 409 409",
        "401 404 404 404 403 409 409",
    ),
    "GET /v1/me/attendance": same("401 200 200 200 200 200 200"),
    "GET /v1/me/attendance.csv": same("401 200 200 200 200 200 200"),
    "GET /v1/communities/{community_id}/calendar.ics": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    "GET /v1/events/{event_id}/calendar.ics": (
        "401 200 200 200 200 200 200",
        "401 200 200 200 200 200 200",
        "401 404 404 404 200 200 200",
    ),
    # The feed URL's token is the credential (someone else's here): no Authorization header is needed.
    "GET /v1/calendar/{token}.ics": same("200 200 200 200 200 200 200"),
    "POST /v1/me/calendar-feed": same("401 201 201 201 201 201 201"),
    "DELETE /v1/me/calendar-feed": same("401 204 204 204 204 204 204"),
    # -- notifications: the caller's own ----------------------------------------------------------------
    "GET /v1/me/notifications": same("401 200 200 200 200 200 200"),
    "GET /v1/me/notifications/unread-count": same("401 200 200 200 200 200 200"),
    "POST /v1/me/notifications/read-all": same("401 200 200 200 200 200 200"),
    # The owner's notification (a join request): anyone else's id is the same 404 as an unknown one.
    "POST /v1/me/notifications/{notification_id}/read": same("401 404 404 404 404 404 200"),
    "GET /v1/me/notification-preferences": same("401 200 200 200 200 200 200"),
    "PUT /v1/me/notification-preferences": same("401 200 200 200 200 200 200"),
    "GET /v1/me/stream": same("401 200 200 200 200 200 200"),
    # -- personal-data export: the caller's own --------------------------------------------------------
    # Everyone may ask for their own (each caller here asks once, so each starts one).
    "POST /v1/me/export": same("401 202 202 202 202 202 202"),
    "GET /v1/me/export": same("401 200 200 200 200 200 200"),
    # The owner's (ready) export: anyone else's is the same 404 as an unknown one.
    "GET /v1/me/export/{export_id}/archive": same("401 404 404 404 404 404 200"),
    # A mail's unsubscribe link (someone outside the matrix): the signed token is the credential.
    "GET /v1/unsubscribe/{token}": same("200 200 200 200 200 200 200"),
    "POST /v1/unsubscribe/{token}": same("200 200 200 200 200 200 200"),
    # -- webhooks: a community's, for its owners -------------------------------------------------------
    "POST /v1/communities/{community_id}/webhooks": (
        "401 403 403 403 403 403 201",
        "401 403 403 403 403 403 201",
        "401 404 404 404 403 403 201",
    ),
    "GET /v1/communities/{community_id}/webhooks": (
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "GET /v1/communities/{community_id}/webhooks/{webhook_id}": (
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "PATCH /v1/communities/{community_id}/webhooks/{webhook_id}": (  # the same description again
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "DELETE /v1/communities/{community_id}/webhooks/{webhook_id}": (  # a spare webhook
        "401 403 403 403 403 403 204",
        "401 403 403 403 403 403 204",
        "401 404 404 404 403 403 204",
    ),
    "POST /v1/communities/{community_id}/webhooks/{webhook_id}/rotate-secret": (
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "GET /v1/communities/{community_id}/webhooks/{webhook_id}/deliveries": (
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
    "POST /v1/communities/{community_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": (
        "401 403 403 403 403 403 202",
        "401 403 403 403 403 403 202",
        "401 404 404 404 403 403 202",
    ),
    "POST /v1/communities/{community_id}/webhooks/{webhook_id}/test": (
        "401 403 403 403 403 403 202",
        "401 403 403 403 403 403 202",
        "401 404 404 404 403 403 202",
    ),
    # -- webhooks of the whole network: for network admins only (none of these callers is one) ---------
    "POST /v1/webhooks": same("401 403 403 403 403 403 403"),
    "GET /v1/webhooks": same("401 403 403 403 403 403 403"),
    "GET /v1/webhooks/{webhook_id}": same("401 403 403 403 403 403 403"),
    "PATCH /v1/webhooks/{webhook_id}": same("401 403 403 403 403 403 403"),
    "DELETE /v1/webhooks/{webhook_id}": same("401 403 403 403 403 403 403"),
    "POST /v1/webhooks/{webhook_id}/rotate-secret": same("401 403 403 403 403 403 403"),
    "GET /v1/webhooks/{webhook_id}/deliveries": same("401 403 403 403 403 403 403"),
    "POST /v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": same("401 403 403 403 403 403 403"),
    "POST /v1/webhooks/{webhook_id}/test": same("401 403 403 403 403 403 403"),
    # -- last: archiving makes the community read-only ---------------------------------------------------
    "POST /v1/communities/{community_id}/archive": (
        "401 403 403 403 403 403 200",
        "401 403 403 403 403 403 200",
        "401 404 404 404 403 403 200",
    ),
}

CODE_OF_CONDUCT = "Be kind. Keep patient data out of the chat."
# Path parameters that name something of the case's community: swapped for ids that do not exist
# when a 404 is compared with the 404 for nothing at all.
SCOPED_PARAMS = ("community_id", "event_id", "link_id")


# -- the world: set up once ---------------------------------------------------------------------------------


@dataclass
class Community:
    visibility: str
    id: str
    name: str
    people: dict[str, Person]
    event_id: str
    spare_members: list[Person] = field(default_factory=list)
    spare_requests: list[str] = field(default_factory=list)
    spare_pending: list[Person] = field(default_factory=list)
    spare_events: list[str] = field(default_factory=list)
    link_to_accept: str = ""
    link_to_remove: str = ""
    event_title: str = ""
    event_ids: list[str] = field(default_factory=list)  # every occurrence it organises
    owner_notification_id: str = ""  # a notification of its owner's
    webhook_id: str = ""
    delivery_id: str = ""  # a delivery of that webhook (its test ping)
    spare_webhooks: list[str] = field(default_factory=list)
    owner_export_id: str = ""  # a ready personal-data export of its owner's (made when first needed)


@dataclass
class World:
    http: httpx.AsyncClient
    mongo: AsyncMongoClient[Any]
    membership_db: str
    events_db: str
    notifications_db: str
    communities: dict[str, Community]
    propose_to: str  # a community every owner proposes a link to
    feed_token: str  # a calendar feed of someone outside the matrix
    unsubscribe_token: str  # an unsubscribe link of someone outside the matrix
    hook_url: str  # a webhook receiver that answers 200
    secrets: set[str]  # what of the hidden community no outsider may see

    async def snapshot(self, community: Community) -> dict[str, list[Any]]:
        """The stored documents of one community and its people, in both services."""
        m, e = self.mongo[self.membership_db], self.mongo[self.events_db]
        n = self.mongo[self.notifications_db]
        cid = community.id
        people = sorted(p.user_id for p in community.people.values())
        events = await e.events.find({"community_id": cid}).sort("_id").to_list()
        queries: dict[str, Any] = {
            "communities": m.communities.find({"_id": cid}),
            "memberships": m.memberships.find({"community_id": cid}),
            "member_counts": m.member_counts.find({"community_id": cid}),
            "invitations": m.invitations.find({"community_id": cid}),
            "links_from": m.links.find({"from_community_id": cid}),
            "links_to": m.links.find({"to_community_id": cid}),
            "people": m.users.find({"_id": {"$in": people}}),
            "series": e.series.find({"community_id": cid}),
            "rsvps": e.rsvps.find({"community_id": cid}),
            "check_ins": e.check_ins.find({"event_id": {"$in": [d["_id"] for d in events]}}),
            "calendar_feeds": e.calendar_feeds.find({"_id": {"$in": people}}),
            # Deliveries are left out: the delivery job writes them as it sends.
            "webhooks": n.webhooks.find({"community_id": cid}),
            "preferences": n.preferences.find({"_id": {"$in": people}}),
        }
        found = {name: await cursor.sort("_id").to_list() for name, cursor in queries.items()}
        return {"events": events, **found}


async def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202, 204)), (response.request.url, response.text)
    return response.json() if response.content else None


async def _build_community(
    http: httpx.AsyncClient, visibility: str, marker: str, partners: dict[str, Person]
) -> Community:
    """Set up while public (so that people can ask to join), then given its visibility."""
    owner = new_person(f"{visibility}-owner")
    name = f"Matrix {visibility} {marker}"
    created = await create_community(
        http,
        owner,
        name=name,
        description=f"What {name} is about",
        join_policy="approval",
        code_of_conduct=CODE_OF_CONDUCT,
        visibility="public",
    )
    cid = created["id"]
    base = f"/v1/communities/{cid}"

    async def ask(person: Person) -> str:
        request_id: str = (await _ok(await join(http, cid, person, accept_code_of_conduct_version=1), 202))[
            "request_id"
        ]
        return request_id

    async def admit(person: Person) -> Person:
        request_id = await ask(person)
        await _ok(await http.post(f"{base}/requests/{request_id}/approve", headers=owner.headers), 200)
        return person

    people = {"owner": owner}
    people["member"] = await admit(new_person(f"{visibility}-member"))
    people["facilitator"] = await admit(new_person(f"{visibility}-facilitator"))
    await _ok(
        await http.patch(
            f"{base}/members/{people['facilitator'].user_id}", json={"role": "facilitator"}, headers=owner.headers
        )
    )
    people["banned"] = await admit(new_person(f"{visibility}-banned"))
    await _ok(await http.delete(f"{base}/members/{people['banned'].user_id}?ban=true", headers=owner.headers), 204)
    people["pending"] = new_person(f"{visibility}-pending")
    await ask(people["pending"])
    community = Community(visibility, cid, name, people, event_id="")
    community.spare_members = [await admit(new_person("spare")) for _ in ROLES]
    community.spare_requests = [await ask(new_person("asker")) for _ in range(2 * len(ROLES))]
    community.spare_pending = [new_person("spare-pending")]
    await ask(community.spare_pending[0])

    # A link proposed to it (to accept), and an active one (to remove).
    asker, asker_id = partners["accept"], partners["accept_id"]
    proposed = await http.post(
        f"/v1/communities/{asker_id}/links", json={"to_community_id": cid}, headers=asker.headers
    )
    community.link_to_accept = (await _ok(proposed, 201))["id"]
    remover, remover_id = partners["remove"], partners["remove_id"]
    active = await http.post(f"{base}/links", json={"to_community_id": remover_id}, headers=owner.headers)
    community.link_to_remove = (await _ok(active, 201))["id"]
    accepted = await http.post(
        f"/v1/communities/{remover_id}/links/{community.link_to_remove}/accept", headers=remover.headers
    )
    await _ok(accepted, 200)
    return community


async def _schedule(http: httpx.AsyncClient, community_id: str, host: Person, **fields: Any) -> str:
    """An occurrence, once the events service knows the community (and its links)."""

    async def attempt() -> str | None:
        response = await http.post(
            f"/v1/communities/{community_id}/events", json=event_body(**fields), headers=host.headers
        )
        if response.status_code in (403, 404, 422):
            return None
        event_id: str = (await _ok(response, 201))["id"]
        return event_id

    result: str = await eventually(attempt, timeout=30, what=f"an event of {community_id}")
    return result


async def _settled(http: httpx.AsyncClient, world_communities: dict[str, Community]) -> None:
    """Wait until the events service has applied every membership fact set up (it learns them from the bus)."""
    for community in world_communities.values():
        people = community.people
        event = f"/v1/events/{community.event_id}"
        inside_only = community.visibility == "hidden"

        async def agreed(c: Community = community, event: str = event, inside_only: bool = inside_only) -> bool:
            checks = [
                (people_of(c, "facilitator"), "PATCH", {"title": c.event_title}, 200),
                (new_person("probe"), "GET", None, 404 if inside_only else 200),
                (people_of(c, "banned"), "GET", None, 404 if inside_only else 200),
                (people_of(c, "pending"), "GET", None, 404 if inside_only else 200),
                (people_of(c, "member"), "GET", None, 200),
            ]
            for person, method, body, status in checks:
                response = await http.request(method, event, json=body, headers=person.headers)
                if response.status_code != status:
                    return False
            return True

        await eventually(agreed, timeout=30, what=f"the events service to agree about {community.visibility}")
        del people


def people_of(community: Community, role: str) -> Person:
    return community.people[role]


async def _notifications_settled(http: httpx.AsyncClient, c: Community) -> None:
    """Wait until the notifications service knows the community's visibility and everyone's standing
    (it learns them from the bus), as the webhooks' answers show."""
    hooks = f"/v1/communities/{c.id}/webhooks"
    outside = 404 if c.visibility == "hidden" else 403
    checks = [
        (people_of(c, "owner"), 200),
        (people_of(c, "facilitator"), 403),
        (people_of(c, "member"), 403),
        (people_of(c, "banned"), outside),
        (people_of(c, "pending"), outside),
        (new_person("probe"), outside),
    ]

    async def agreed() -> bool:
        for person, status in checks:
            if (await http.get(hooks, headers=person.headers)).status_code != status:
                return False
        return True

    await eventually(agreed, timeout=30, what=f"the notifications service to agree about {c.visibility}")


async def _notification_parts(http: httpx.AsyncClient, c: Community, hook_url: str) -> None:
    """The owner's webhooks (one to use, spares to delete), a delivery of its test ping,
    and one of the owner's notifications (a join request)."""
    owner = people_of(c, "owner")
    hooks = f"/v1/communities/{c.id}/webhooks"
    body = {"url": hook_url, "types": ["org.weft.member.*"], "description": WEBHOOK_DESCRIPTION}
    c.webhook_id = (await _ok(await http.post(hooks, json=body, headers=owner.headers), 201))["id"]
    c.spare_webhooks = [(await _ok(await http.post(hooks, json=body, headers=owner.headers), 201))["id"] for _ in ROLES]
    await _ok(await http.post(f"{hooks}/{c.webhook_id}/test", headers=owner.headers), 202)

    async def delivery() -> str | None:
        page = await _ok(await http.get(f"{hooks}/{c.webhook_id}/deliveries", headers=owner.headers), 200)
        return page["items"][0]["id"] if page["items"] else None

    c.delivery_id = await eventually(delivery, what="the test ping's delivery")

    async def notification() -> str | None:
        query = {"community_id": c.id}
        page = await _ok(await http.get("/v1/me/notifications", params=query, headers=owner.headers), 200)
        return page["items"][0]["id"] if page["items"] else None

    c.owner_notification_id = await eventually(notification, what="a notification of the owner's")


@pytest.fixture(scope="module")
async def world(
    start_session_service: Callable[..., ServiceProcess],
    membership_service: ServiceProcess,
    events_service: ServiceProcess,
    notifications_service: ServiceProcess,
    # Not routed to (its operations have their own matrix), but a personal-data export
    # waits for its part: it answers on the bus.
    resources_service: ServiceProcess,
    platform_env: dict[str, str],
) -> AsyncIterator[World]:
    # A gateway of its own: the matrix is many requests from a few people, more than the rate limit lets through.
    gateway = start_session_service(
        "gateway",
        env={
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
            "WEFT_GATEWAY_EVENTS_URL": events_service.url,
            "WEFT_GATEWAY_NOTIFICATIONS_URL": notifications_service.url,
            "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
            "WEFT_GATEWAY_RATE_LIMIT_BURST": "100000",
        },
    )
    started = time.monotonic()
    receiver = WebhookReceiver()
    await receiver.start()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        marker = f"zq{secrets.token_hex(6)}"  # in the hidden community's name and its events' titles
        partners: dict[str, Any] = {}
        for purpose in ("accept", "remove", "propose"):
            owner = new_person(f"partner-{purpose}")
            partners[purpose], partners[f"{purpose}_id"] = owner, (await create_community(http, owner))["id"]
        communities = {
            v: await _build_community(http, v, marker if v == "hidden" else v, partners) for v in VISIBILITIES
        }
        public, hidden = communities["public"], communities["hidden"]
        # Public and hidden are linked, each organises an event co-hosted by the other (items 1 and 2 of issue 7).
        link = await http.post(
            f"/v1/communities/{hidden.id}/links",
            json={"to_community_id": public.id},
            headers=hidden.people["owner"].headers,
        )
        link_id = (await _ok(link, 201))["id"]
        await _ok(
            await http.post(
                f"/v1/communities/{public.id}/links/{link_id}/accept", headers=public.people["owner"].headers
            )
        )
        for c in communities.values():
            title = c.event_title = f"Matrix event {marker if c is hidden else c.visibility}"
            c.event_id = await _schedule(http, c.id, c.people["owner"], title=title, visibility="public")
            c.spare_events = [
                await _schedule(http, c.id, c.people["owner"], title=title, visibility="public") for _ in ROLES
            ]
        owners = {c.visibility: c.people["owner"] for c in communities.values()}
        cohosted_by_public = await _schedule(
            http,
            hidden.id,
            owners["hidden"],
            title=f"Matrix event {marker}",
            visibility="public",
            cohost_community_ids=[public.id],
        )
        await _schedule(
            http,
            public.id,
            owners["public"],
            title="Matrix co-hosted",
            visibility="public",
            cohost_community_ids=[hidden.id],
        )
        for c in communities.values():
            if c.visibility != "public":
                await _ok(
                    await http.patch(
                        f"/v1/communities/{c.id}", json={"visibility": c.visibility}, headers=c.people["owner"].headers
                    )
                )
        await _settled(http, communities)
        hook_url = receiver.url("/ok/matrix")
        for c in communities.values():
            await _notifications_settled(http, c)
            await _notification_parts(http, c, hook_url)
        feed = await _ok(await http.post("/v1/me/calendar-feed", headers=partners["propose"].headers), 201)
        mongo: AsyncMongoClient[Any] = AsyncMongoClient(platform_env["MONGODB_URL"])
        hidden.event_ids = [hidden.event_id, *hidden.spare_events, cohosted_by_public]
        try:
            print(f"\nauthorization matrix: set up in {time.monotonic() - started:.1f} s")
            world = World(
                http=http,
                mongo=mongo,
                membership_db=platform_env["WEFT_MEMBERSHIP_DATABASE"],
                events_db=platform_env["WEFT_EVENTS_DATABASE"],
                notifications_db=platform_env["WEFT_NOTIFICATIONS_DATABASE"],
                communities=communities,
                propose_to=partners["propose_id"],
                feed_token=feed["token"],
                unsubscribe_token=sign(
                    DEV_UNSUBSCRIBE_KEY, UnsubscribeSubject(partners["propose"].user_id, "reminder", None)
                ),
                hook_url=hook_url,
                # Its members are in no other community: no list (the people directory...) may show them either.
                secrets={hidden.id, marker, *hidden.event_ids, *(hidden.people[r].user_id for r in INSIDE)},
            )
            for c in communities.values():  # the snapshots read the services' real databases
                stored = await world.snapshot(c)
                expected = ("communities", "memberships", "links_to", "people", "events")
                assert [k for k in expected if not stored[k]] == []
            yield world
        finally:
            await mongo.close()
            await receiver.stop()


# -- one request per case --------------------------------------------------------------------------------


@dataclass
class Request:
    params: dict[str, str]
    body: Any = None
    caller: Person | None = None  # instead of the role's usual person
    wrote: bool = False  # preparing it stored something (take the "before" snapshot after it)
    query: dict[str, str] = field(default_factory=dict)


Prepare = Callable[[World, Community, Person | None, str, int], Awaitable[Request]]


def _ids(c: Community, **more: str) -> dict[str, str]:
    return {
        "community_id": c.id,
        "event_id": c.event_id,
        "webhook_id": c.webhook_id,
        "delivery_id": c.delivery_id,
        "notification_id": c.owner_notification_id,
        **more,
    }


async def _plain(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    return Request(_ids(c))


def _with_body(body: Callable[[World, Community, Person | None], Any]) -> Prepare:
    async def prepare(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
        return Request(_ids(c), body(w, c, caller))

    return prepare


async def _erasable_caller(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    # DELETE /v1/me erases whoever calls: a throwaway person stands in, so the world's people stay.
    return Request(_ids(c), caller=new_person("erasable") if caller is not None else None)


async def _invitation_for_caller(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    # Accepting makes a pending person a member: a spare one keeps "pending" pending for the rest.
    if role in INSIDE:  # a member cannot be invited: they try someone else's
        made = await w.http.post(
            f"/v1/communities/{c.id}/invitations",
            json={"user_id": new_person("invitee").user_id},
            headers=c.people["owner"].headers,
        )
        token = (await _ok(made, 201))["token"]
        return Request({"token": token}, {"accept_code_of_conduct_version": 1}, wrote=True)
    invitee = c.spare_pending[0] if role == "pending" else caller or new_person("anonymous")
    made = await w.http.post(
        f"/v1/communities/{c.id}/invitations", json={"user_id": invitee.user_id}, headers=c.people["owner"].headers
    )
    token = (await _ok(made, 201))["token"]
    return Request({"token": token}, {"accept_code_of_conduct_version": 1}, caller=caller and invitee, wrote=True)


async def _invitation_to_look_at(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    # Looking changes nothing, so the caller's own standing stays as it is (no spare needed);
    # members look at someone else's (they cannot be invited).
    invitee = new_person("invitee") if role in INSIDE else caller or new_person("anonymous")
    made = await w.http.post(
        f"/v1/communities/{c.id}/invitations", json={"user_id": invitee.user_id}, headers=c.people["owner"].headers
    )
    return Request({"token": (await _ok(made, 201))["token"]}, wrote=True)


async def _invitation_to_withdraw(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    made = await w.http.post(
        f"/v1/communities/{c.id}/invitations",
        json={"user_id": new_person("invitee").user_id},
        headers=c.people["owner"].headers,
    )
    return Request(_ids(c, invitation_id=(await _ok(made, 201))["id"]), wrote=True)


async def _owners_ready_export(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    if not c.owner_export_id:
        owner = c.people["owner"]
        # 200 if the owner's export from the POST row is still pending: that one, then.
        export_id = (await _ok(await w.http.post("/v1/me/export", headers=owner.headers), 200, 202))["id"]

        async def ready() -> bool:
            listed = await _ok(await w.http.get("/v1/me/export", headers=owner.headers), 200)
            return any(e["id"] == export_id and e["status"] == "ready" for e in listed["items"])

        await eventually(ready, what="the owner's export to be ready")
        c.owner_export_id = export_id
    return Request(_ids(c, export_id=c.owner_export_id))


PREPARE: dict[str, Prepare] = {
    # Hidden, so that its creator (a member of the hidden community, say) shows in no list because of it.
    "POST /v1/communities": _with_body(
        lambda w, c, p: {"name": f"Matrix-made {secrets.token_hex(3)}", "purpose": "Test", "visibility": "hidden"}
    ),
    # Found by a search (the name's words), so that it is on the page whatever else the database holds.
    "GET /v1/communities": lambda w, c, p, r, i: _done(Request(_ids(c), query={"q": c.name.lower()})),
    "PATCH /v1/communities/{community_id}": _with_body(lambda w, c, p: {"name": c.name}),
    "PUT /v1/communities/{community_id}/code-of-conduct": _with_body(lambda w, c, p: {"text": CODE_OF_CONDUCT}),
    "POST /v1/communities/{community_id}/code-of-conduct/accept": _with_body(lambda w, c, p: {"version": 1}),
    "POST /v1/communities/{community_id}/members": _with_body(lambda w, c, p: {"accept_code_of_conduct_version": 1}),
    "PATCH /v1/communities/{community_id}/members/{user_id}": lambda w, c, p, r, i: _done(
        Request(_ids(c, user_id=c.people["member"].user_id), {"role": "member"})
    ),
    "DELETE /v1/communities/{community_id}/members/{user_id}": lambda w, c, p, r, i: _done(
        Request(_ids(c, user_id=c.spare_members[i].user_id))
    ),
    "POST /v1/communities/{community_id}/requests/{request_id}/approve": lambda w, c, p, r, i: _done(
        Request(_ids(c, request_id=c.spare_requests[i]))
    ),
    "POST /v1/communities/{community_id}/requests/{request_id}/decline": lambda w, c, p, r, i: _done(
        Request(_ids(c, request_id=c.spare_requests[len(ROLES) + i]))
    ),
    "POST /v1/communities/{community_id}/invitations": _with_body(
        lambda w, c, p: {"user_id": new_person("invitee").user_id}
    ),
    "POST /v1/invitations/{token}/accept": _invitation_for_caller,
    "GET /v1/invitations/{token}": _invitation_to_look_at,
    "DELETE /v1/communities/{community_id}/invitations/{invitation_id}": _invitation_to_withdraw,
    "POST /v1/communities/{community_id}/links": _with_body(lambda w, c, p: {"to_community_id": w.propose_to}),
    "POST /v1/communities/{community_id}/links/{link_id}/accept": lambda w, c, p, r, i: _done(
        Request(_ids(c, link_id=c.link_to_accept))
    ),
    "DELETE /v1/communities/{community_id}/links/{link_id}": lambda w, c, p, r, i: _done(
        Request(_ids(c, link_id=c.link_to_remove))
    ),
    "DELETE /v1/me": _erasable_caller,
    "PUT /v1/me/profile": _with_body(lambda w, c, p: {"organisation": "NHS Trust", "expertise": ["falls"]}),
    "POST /v1/communities/{community_id}/events": _with_body(lambda w, c, p: event_body(visibility="public")),
    "PATCH /v1/events/{event_id}": _with_body(lambda w, c, p: {"title": c.event_title}),
    "POST /v1/events/{event_id}/cancel": lambda w, c, p, r, i: _done(
        Request(_ids(c) | {"event_id": c.spare_events[i]})
    ),
    "PUT /v1/events/{event_id}/rsvp": _with_body(lambda w, c, p: {"attendance": "in_person"}),
    "POST /v1/events/{event_id}/check-ins": _with_body(lambda w, c, p: {"user_id": c.people["member"].user_id}),
    "GET /v1/calendar/{token}.ics": lambda w, c, p, r, i: _done(Request({"token": w.feed_token})),
    "PUT /v1/me/notification-preferences": _with_body(lambda w, c, p: {}),
    "GET /v1/me/export/{export_id}/archive": _owners_ready_export,
    "GET /v1/unsubscribe/{token}": lambda w, c, p, r, i: _done(Request({"token": w.unsubscribe_token})),
    "POST /v1/unsubscribe/{token}": lambda w, c, p, r, i: _done(Request({"token": w.unsubscribe_token})),
    "POST /v1/communities/{community_id}/webhooks": _with_body(lambda w, c, p: _webhook_body(w)),
    "PATCH /v1/communities/{community_id}/webhooks/{webhook_id}": _with_body(
        lambda w, c, p: {"description": WEBHOOK_DESCRIPTION}
    ),
    "DELETE /v1/communities/{community_id}/webhooks/{webhook_id}": lambda w, c, p, r, i: _done(
        Request(_ids(c, webhook_id=c.spare_webhooks[i]))
    ),
    "POST /v1/webhooks": _with_body(lambda w, c, p: _webhook_body(w)),
    "PATCH /v1/webhooks/{webhook_id}": _with_body(lambda w, c, p: {"description": WEBHOOK_DESCRIPTION}),
}

WEBHOOK_DESCRIPTION = "Matrix hook"


def _webhook_body(w: World) -> dict[str, Any]:
    return {"url": w.hook_url, "types": ["org.weft.member.*"], "description": WEBHOOK_DESCRIPTION}


async def _done(request: Request) -> Request:
    return request


def _caller(c: Community, role: str) -> Person | None:
    if role == "anonymous":
        return None
    if role == "outsider":
        return new_person("outsider")
    return c.people[role]


# Answers that never end (server-sent events): the case reads the status and the first frame.
STREAMING = {"GET /v1/me/stream"}


async def _send(w: World, operation: str, request: Request, caller: Person | None) -> httpx.Response:
    method, template = operation.split(" ", 1)
    headers = caller.headers if caller else {}
    path = template.format(**request.params)
    if operation not in STREAMING:
        return await w.http.request(method, path, params=request.query, json=request.body, headers=headers)
    async with w.http.stream(method, path, params=request.query, headers=headers) as streamed:
        first = b""
        if streamed.status_code == 200:
            async for chunk in streamed.aiter_bytes():
                first += chunk
                if b"\n\n" in first:
                    break
        else:
            first = await streamed.aread()
        kept = {"content-type": streamed.headers.get("content-type", "")}
        return httpx.Response(streamed.status_code, headers=kept, content=first, request=streamed.request)


def _fake(value: str) -> str:
    """An id of the same length that names nothing."""
    return secrets.token_hex(len(value))[: len(value)]


# What an allowed answer may show depends on the caller too: (operation, check) where
# check(community, role, body) says what it shows that it must not (None: nothing).
ContentCheck = Callable[[Community, str, Any], str | None]


def _details_only_for_members(c: Community, role: str, body: Any) -> str | None:
    """A private community's description and member count are for its members (who do see them)."""
    shown = body.get("member_count") is not None, bool(body.get("description"))
    if c.visibility != "hidden" and shown != (
        (True, True) if c.visibility == "public" or role in INSIDE else (False, False)
    ):
        return f"shows member_count {body.get('member_count')!r} and description {body.get('description')!r}"
    return None


def _attendee_list_only_for_hosts(c: Community, role: str, body: Any) -> str | None:
    if role not in ("facilitator", "owner") and body.get("attendees") is not None:
        return f"shows the attendee list ({len(body['attendees'])} people)"
    return None


def _directory_counts_only_for_members(c: Community, role: str, body: Any) -> str | None:
    """A search by its name finds the community (a hidden one only for its members); the
    directory shows a private community's member count only to its members."""
    found = [item for item in body["items"] if item["id"] == c.id]
    if bool(found) != (c.visibility != "hidden" or role in INSIDE):
        return f"a search by its name finds it {len(found)} times"
    if found and c.visibility == "private" and role not in INSIDE and found[0].get("member_count") is not None:
        return f"lists the private community with member_count {found[0]['member_count']}"
    return None


CONTENT_CHECKS: dict[str, ContentCheck] = {
    "GET /v1/communities": _directory_counts_only_for_members,
    "GET /v1/communities/{community_id}": _details_only_for_members,
    "GET /v1/events/{event_id}/attendees": _attendee_list_only_for_hosts,
}


# -- the tests --------------------------------------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


async def test_the_table_has_a_row_for_every_operation_of_the_gateway_document(world: World) -> None:
    """A route added without a row (or a row left for a route that went) fails here."""
    document = await _ok(await world.http.get("/openapi.json"), 200)
    operations = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert set(MATRIX) == operations, {
        "without a row": operations - set(MATRIX),
        "no such operation": set(MATRIX) - operations,
    }
    for operation, columns in MATRIX.items():
        assert len(columns) == len(VISIBILITIES) and all(len(c.split()) == len(ROLES) for c in columns), operation


def _changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


@pytest.mark.timeout(600)
async def test_every_operation_for_every_caller_and_visibility(world: World) -> None:
    failures: list[str] = []
    cases = 0
    started = time.monotonic()
    for operation, columns in MATRIX.items():
        prepare = PREPARE.get(operation, _plain)
        for visibility, statuses in zip(VISIBILITIES, columns, strict=True):
            community = world.communities[visibility]
            before = await world.snapshot(community)
            for index, (role, expected) in enumerate(zip(ROLES, statuses.split(), strict=True)):
                cases += 1
                where = f"{operation} [{visibility} community, {role}]"
                default_caller = _caller(community, role)
                request = await prepare(world, community, default_caller, role, index)
                caller = request.caller or default_caller
                if request.wrote:
                    before = await world.snapshot(community)
                response = await _send(world, operation, request, caller)
                if response.status_code != int(expected):
                    failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:300]}")
                after = await world.snapshot(community)
                if response.status_code >= 400 and _changed(before, after):
                    failures.append(f"{where}: refused ({response.status_code}) but changed {_changed(before, after)}")
                before = after
                check = CONTENT_CHECKS.get(operation)
                shown = check(community, role, response.json()) if check and response.status_code == 200 else None
                if shown:
                    failures.append(f"{where}: {shown}")
                outside = not (visibility == "hidden" and role in INSIDE)
                # The ids the caller sent come back in `instance`: that tells them nothing.
                told = world.secrets - set(request.params.values())
                if operation == "GET /v1/me/notifications" and role == "banned" and visibility == "hidden":
                    # They were in it: their own removal notice names the community (not who removed
                    # them), and the invitation its owner later sent them (a case above) names the owner.
                    owner = community.people["owner"].user_id
                    told -= {community.id, owner, *(s for s in world.secrets if s in community.name)}
                if operation == "GET /v1/invitations/{token}" and response.status_code == 200:
                    # The invitee is told which community invites them: that is what it is for.
                    told -= {community.id, *(s for s in world.secrets if s in community.name)}
                leaked = sorted(s for s in told if s in response.text) if outside else []
                if leaked:
                    failures.append(f"{where}: the response names the hidden community's {leaked}")
                if outside and visibility == "hidden" and response.status_code == 404:
                    swapped = {k: _fake(v) if k in SCOPED_PARAMS else v for k, v in request.params.items()}
                    nothing = await _send(world, operation, Request(swapped, request.body), caller)
                    seen = response.text
                    for key in SCOPED_PARAMS:
                        if key in request.params:
                            seen = seen.replace(request.params[key], swapped[key])
                    if (nothing.status_code, nothing.headers.get("content-type"), nothing.text) != (
                        404,
                        response.headers.get("content-type"),
                        seen,
                    ):
                        failures.append(
                            f"{where}: its 404 differs from one for nothing: {response.text} / {nothing.text}"
                        )
    elapsed = time.monotonic() - started
    print(
        f"\nauthorization matrix: {cases} cases ({len(MATRIX)} operations x {len(ROLES)} callers x "
        f"{len(VISIBILITIES)} visibilities) in {elapsed:.1f} s"
    )
    assert cases == len(MATRIX) * len(ROLES) * len(VISIBILITIES)
    assert failures == [], f"{len(failures)} of {cases} cases failed:\n" + "\n".join(failures)
