"""Two replicas, one truth: two processes of membership and two of events on one
database and one set of durable consumers, with requests spread over both.

The rules that concurrency could break — the last seat, promotion from the
waitlist when someone leaves, the at-least-one-active-owner rule, one reminder
per occurrence and offset — hold, and no message is handled twice (each effect
shows up on the bus exactly once).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import Person, create_community, join, new_person
from tests.support.bus import BusMessage, stream_messages
from tests.support.waiting import eventually
from weft_cli.natsserver import NatsHandle, start_nats
from weft_cli.testing import ServiceLauncher

pytestmark = pytest.mark.timeout(300)


class Spread:
    """An HTTP client that sends each request to the next replica in turn."""

    def __init__(self, urls: list[str]) -> None:
        self._clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
        self._next = itertools.cycle(self._clients)

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await next(self._next).request(method, path, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


@dataclass
class Replicas:
    nats_url: str
    members: Spread
    events: Spread

    async def bus(self, subject: str) -> list[BusMessage]:
        return await stream_messages(self.nats_url, subject)


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsHandle]:
    """A NATS server of its own, so nothing else consumes or publishes here."""
    handle = start_nats(tmp_path_factory.mktemp("replicas-nats"))
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="module")
async def replicas(platform_env: dict[str, str], own_nats: NatsHandle) -> AsyncIterator[Replicas]:
    run = secrets.token_hex(3)
    env = {
        **platform_env,
        "WEFT_NATS_URL": own_nats.url,
        "WEFT_MEMBERSHIP_DATABASE": f"weft_membership_replicas_{run}",
        "WEFT_EVENTS_DATABASE": f"weft_events_replicas_{run}",
        # Reminders one minute before the start, polled often: a meeting a minute and a
        # few seconds away is reminded a few seconds later.
        "WEFT_EVENTS_REMINDER_OFFSETS_MINUTES": "[1]",
        "WEFT_EVENTS_REMINDER_POLL_SECONDS": "0.2",
    }
    launcher = ServiceLauncher(env)
    try:
        members = Spread([launcher.start("membership").url for _ in range(2)])
        events = Spread([launcher.start("events").url for _ in range(2)])
        try:
            yield Replicas(own_nats.url, members, events)
        finally:
            await members.close()
            await events.close()
    finally:
        launcher.stop_all()


def starts_in(minutes: float) -> tuple[str, str]:
    start = (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)
    return start.isoformat(), (start + timedelta(hours=1)).isoformat()


async def community_of(r: Replicas, owner: Person, people: list[Person]) -> str:
    community_id: str = (await create_community(r.members, owner))["id"]  # type: ignore[arg-type]
    responses = await asyncio.gather(*(join(r.members, community_id, p) for p in people))  # type: ignore[arg-type]
    assert all(resp.status_code == 201 for resp in responses), [resp.text for resp in responses]
    return community_id


async def schedule(r: Replicas, community_id: str, host: Person, **fields: Any) -> dict[str, Any]:
    starts_at, ends_at = fields.pop("when", starts_in(7 * 24 * 60))
    body = {
        "title": "Falls prevention huddle",
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": starts_at,
        "ends_at": ends_at,
        "venue": "Room 4",
        **fields,
    }

    async def attempt() -> dict[str, Any] | None:
        response = await r.events.post(f"/v1/communities/{community_id}/events", json=body, headers=host.headers)
        if response.status_code in (403, 404):
            return None  # this replica's read model has not seen the community yet
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    result: dict[str, Any] = await eventually(attempt, what="the events service to learn the community")
    return result


async def all_known(r: Replicas, event_id: str, people: list[Person]) -> None:
    """Both replicas read one database: once a person is known, they are known to both."""

    async def known(person: Person) -> None:
        async def visible() -> bool:
            response = await r.events.get(f"/v1/events/{event_id}", headers=person.headers)
            return response.status_code == 200

        await eventually(visible, what=f"{person.user_id} to be known as a member")

    await asyncio.gather(*(known(p) for p in people))


def once_each(messages: list[BusMessage], key: str = "user_id") -> Counter[str]:
    return Counter(m.body["data"]["rsvp"][key] for m in messages)


async def test_the_last_seats_go_to_exactly_as_many_people_across_replicas(replicas: Replicas) -> None:
    r = replicas
    host = new_person("host")
    people = [new_person(f"p{i}") for i in range(50)]
    community_id = await community_of(r, host, people)
    event = await schedule(r, community_id, host, capacity={"in_person": 10})
    await all_known(r, event["id"], people)

    answers = await asyncio.gather(
        *(r.events.put(f"/v1/events/{event['id']}/rsvp", json={"attendance": "in_person"}, headers=p.headers)
          for p in people)
    )  # fmt: skip

    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers if a.status_code >= 300]
    statuses = Counter(a.json()["status"] for a in answers)
    assert statuses == {"confirmed": 10, "waitlisted": 40}
    positions = sorted(a.json()["position"] for a in answers if a.json()["status"] == "waitlisted")
    assert positions == list(range(1, 41))
    view = (await r.events.get(f"/v1/events/{event['id']}/attendees", headers=host.headers)).json()
    assert view["confirmed"]["in_person"] == 10 and view["waitlisted"]["in_person"] == 40

    prefix = f"weft.rsvp.*.v1.{community_id}"
    messages = await eventually(lambda: _at_least(r, prefix, 50), what="50 RSVP messages on the bus")
    by_type = Counter(m.type for m in messages)
    assert by_type == {"org.weft.rsvp.confirmed.v1": 10, "org.weft.rsvp.waitlisted.v1": 40}
    assert set(once_each(messages).values()) == {1}


async def _at_least(r: Replicas, subject: str, count: int) -> list[BusMessage] | None:
    found = await r.bus(subject)
    return found if len(found) >= count else None


async def test_leavers_seats_go_to_the_waitlist_once_each(replicas: Replicas) -> None:
    r = replicas
    host = new_person("host")
    confirmed = [new_person(f"seat{i}") for i in range(4)]
    waiting = [new_person(f"wait{i}") for i in range(4)]
    community_id = await community_of(r, host, confirmed + waiting)
    event = await schedule(r, community_id, host, capacity={"in_person": 4})
    await all_known(r, event["id"], confirmed + waiting)
    for person in confirmed + waiting:  # in order, so the waitlist order is known
        response = await r.events.put(
            f"/v1/events/{event['id']}/rsvp", json={"attendance": "in_person"}, headers=person.headers
        )
        assert response.status_code == 201, response.text

    # Everyone with a seat leaves the community at once, through both membership replicas;
    # both events replicas consume the member.left messages from one durable consumer.
    gone = await asyncio.gather(
        *(r.members.delete(f"/v1/communities/{community_id}/members/{p.user_id}", headers=p.headers)
          for p in confirmed)
    )  # fmt: skip
    assert all(g.status_code == 204 for g in gone), [g.text for g in gone]

    subject = f"weft.rsvp.promoted.v1.{community_id}"
    promoted = await eventually(lambda: _at_least(r, subject, 4), what="four promotions")
    await asyncio.sleep(1.0)  # room for a wrong, doubled promotion to land
    promoted = await r.bus(subject)
    assert once_each(promoted) == {p.user_id: 1 for p in waiting}
    cancelled = await r.bus(f"weft.rsvp.cancelled.v1.{community_id}")
    assert once_each(cancelled) == {p.user_id: 1 for p in confirmed}
    view = (await r.events.get(f"/v1/events/{event['id']}/attendees", headers=host.headers)).json()
    assert view["confirmed"]["in_person"] == 4 and view["waitlisted"]["in_person"] == 0
    assert {a["user_id"] for a in view["attendees"]} == {p.user_id for p in waiting}


async def test_a_community_always_keeps_an_active_owner_under_concurrent_promote_and_leave(
    replicas: Replicas,
) -> None:
    r = replicas
    for _ in range(10):
        a, c = new_person("owner-a"), new_person("member-c")
        community_id = await community_of(r, a, [c])
        # A promotes C while C leaves, on different replicas; then A tries to leave too.
        await asyncio.gather(
            r.members.request(
                "PATCH",
                f"/v1/communities/{community_id}/members/{c.user_id}",
                json={"role": "owner"},
                headers=a.headers,
            ),
            r.members.delete(f"/v1/communities/{community_id}/members/{c.user_id}", headers=c.headers),
        )
        await r.members.delete(f"/v1/communities/{community_id}/members/{a.user_id}", headers=a.headers)

        owners = await r.members.get(f"/v1/communities/{community_id}/members?role=owner", headers=a.headers)
        if owners.status_code == 200:
            listed = [m["user_id"] for m in owners.json()["items"]]
        else:  # A has left: ask as C, if C is still a member
            listed = [
                m["user_id"]
                for m in (
                    await r.members.get(f"/v1/communities/{community_id}/members?role=owner", headers=c.headers)
                ).json()["items"]
            ]
        assert listed, "the community was left without an active owner"
        for owner in listed:
            person = a if owner == a.user_id else c
            me = (await r.members.get(f"/v1/communities/{community_id}", headers=person.headers)).json()
            assert me["my_status"] == "active" and me["my_role"] == "owner", me


async def test_each_reminder_goes_out_once_with_two_schedulers(replicas: Replicas) -> None:
    r = replicas
    host = new_person("host")
    community_id = await community_of(r, host, [])
    # Ten meetings whose one-minute reminders come due over the next half minute; both
    # replicas' schedulers (polling every 0.2 s) race for every one.
    events = [await schedule(r, community_id, host, when=starts_in(1 + (15 + 2 * i) / 60)) for i in range(10)]

    subject = f"weft.reminder.due.v1.{community_id}"
    await eventually(lambda: _at_least(r, subject, 10), what="ten reminders", timeout=60)
    await asyncio.sleep(2.0)  # several more polls by both replicas: nothing more may appear
    reminders = await r.bus(subject)
    assert Counter(m.body["data"]["event"]["id"] for m in reminders) == {e["id"]: 1 for e in events}
