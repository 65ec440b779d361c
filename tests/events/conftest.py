from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.nats import NatsBroker
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, create_community, join, new_person
from tests.support.bus import BusMessage, stream_messages
from tests.support.isolated import isolated
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_events.settings import EventsSettings
from weft_events.storage import EventsStorage
from weft_events.usecases.context import EventsContext
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import UnitOfWork


@pytest.fixture(scope="session")
async def members(membership_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=membership_service.url, timeout=15) as http:
        yield http


@pytest.fixture(scope="session")
async def events(events_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=events_service.url, timeout=30) as http:
        yield http


def at(days: float = 7, hours: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).replace(microsecond=0).isoformat()


def event_body(**fields: Any) -> dict[str, Any]:
    body = {
        "title": "Falls prevention huddle",
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": at(7),
        "ends_at": at(7, 2),
        "venue": "Room 4, St Mary's",
        **fields,
    }
    return body


async def schedule(events: httpx.AsyncClient, community_id: str, host: Person, **fields: Any) -> dict[str, Any]:
    """Create an event once the events service knows the community and the host's role."""

    async def attempt() -> dict[str, Any] | None:
        response = await events.post(
            f"/v1/communities/{community_id}/events", json=event_body(**fields), headers=host.headers
        )
        if response.status_code in (403, 404):
            return None
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    result: dict[str, Any] = await eventually(attempt, what="the events service to learn the community")
    return result


async def community_with(members: httpx.AsyncClient, owner: Person, people: list[Person], **fields: Any) -> str:
    community_id: str = (await create_community(members, owner, **fields))["id"]
    await asyncio.gather(*(join(members, community_id, p) for p in people))
    return community_id


async def known_member(events: httpx.AsyncClient, event_id: str, person: Person) -> None:
    """Wait until the events service has seen `person` join (they can then see the event)."""

    async def visible() -> bool:
        return (await events.get(f"/v1/events/{event_id}", headers=person.headers)).status_code == 200

    await eventually(visible, what=f"{person.user_id} to be known as a member")


def one_minute_reminders(label: str, *, poll_seconds: float) -> dict[str, str]:
    """Env for an events process with its own database and consumer (it replays the
    stream to build its membership view) and a one-minute reminder, so a reminder
    test takes seconds, not hours."""
    run = secrets.token_hex(3)
    return {
        "WEFT_EVENTS_DATABASE": f"weft_events_{label}_{run}",
        "WEFT_EVENTS_CONSUMER_NAME": f"events_{label}_{run}",
        "WEFT_EVENTS_REMINDER_OFFSETS_MINUTES": "[1]",
        "WEFT_EVENTS_REMINDER_POLL_SECONDS": str(poll_seconds),
    }


async def counted_and_listed(events: httpx.AsyncClient, eid: str, host: Person) -> tuple[Any, list[Any]]:
    """The occurrence's counters and the places themselves, as its host sees them (one snapshot)."""
    body = (await events.get(f"/v1/events/{eid}/attendees", headers=host.headers)).json()
    return body, body["attendees"]


def assert_counters_match_places(counted: Any, listed: list[Any]) -> None:
    """The occurrence's counters (`confirmed`, `waitlisted` per mode) equal its places."""
    for status in ("confirmed", "waitlisted"):
        for mode in ("in_person", "online"):
            documents = sum(1 for a in listed if a["status"] == status and a["attendance"] == mode)
            assert counted[status][mode] == documents, (status, mode, counted, documents)


async def rsvp(events: httpx.AsyncClient, eid: str, person: Person, mode: str = "in_person") -> httpx.Response:
    return await events.put(f"/v1/events/{eid}/rsvp", json={"attendance": mode}, headers=person.headers)


async def race_for_ten_seats(
    replicas: list[httpx.AsyncClient], nats_url: str, cid: str, owner: Person, people: list[Person]
) -> str:
    """50 people RSVP at once (spread over `replicas`) for 10 seats: exactly 10 get
    one, 40 wait in order, the counters equal the places, and the bus says the same."""
    eid = (await schedule(replicas[0], cid, owner, capacity={"in_person": 10}))["id"]
    responses = await asyncio.gather(*(rsvp(replicas[i % len(replicas)], eid, p) for i, p in enumerate(people)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201]
    results = [r.json() for r in responses]
    assert sum(r["status"] == "confirmed" for r in results) == 10
    assert sorted(r["position"] for r in results if r["status"] == "waitlisted") == list(range(1, 41))
    event = (await replicas[0].get(f"/v1/events/{eid}", headers=owner.headers)).json()
    assert event["seats_left"]["in_person"] == 0 and event["waitlisted"]["in_person"] == 40
    counted, listed = await counted_and_listed(replicas[-1], eid, owner)
    assert_counters_match_places(counted, listed)
    waitlist = [a for a in listed if a["status"] == "waitlisted"]
    assert [a["position"] for a in waitlist] == list(range(1, 41))  # in order, no gaps, no ties
    assert len({a["user_id"] for a in listed}) == 50
    # Each person was told once, with the position the API gave them.
    told = {p.user_id: r for p, r in zip(people, results, strict=True)}

    async def fifty_told() -> list[BusMessage] | None:
        found = await stream_messages(nats_url, f"weft.rsvp.*.*.{cid}")
        about_this = [m for m in found if m.body["data"]["rsvp"]["event_id"] == eid]
        return about_this if len(about_this) >= len(people) else None

    about_this: list[BusMessage] = await eventually(fifty_told, what="the RSVP messages")
    assert sorted(m.body["data"]["rsvp"]["user_id"] for m in about_this) == sorted(told)
    for m in about_this:
        result = told[m.body["data"]["rsvp"]["user_id"]]
        assert m.type == f"org.weft.rsvp.{result['status']}.v1"
        assert m.body["data"].get("position") == result["position"]
    return eid


def occurrence_document(starts_at: datetime, *, community_id: str = "c1", **fields: Any) -> dict[str, Any]:
    """An occurrence as DOCUMENTS.md describes it (an in-person community event with no
    places yet, unless `fields` say otherwise), for tests below the API."""
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
    doc = {
        "_id": secrets.token_hex(12),
        "series_id": None,
        "occurrence_index": 0,
        "community_id": community_id,
        "cohost_community_ids": [],
        "audience": [community_id],
        "title": "Wound care round table",
        "description": "Monthly case review.",
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "venue": "Room 4",
        "joining_link": None,
        "capacity": {"in_person": None, "online": None},
        "confirmed": {"in_person": 0, "online": 0},
        "waitlisted": {"in_person": 0, "online": 0},
        "checked_in": 0,
        "rsvp_seq": 0,
        "registration_opens_at": None,
        "registration_closes_at": None,
        "visibility": "community",
        "hosts": ["hana"],
        "guest_speakers": [],
        "status": "scheduled",
        "reminders": {},
        "next_reminder_at": None,
        "sequence": 0,
        "created_by": "hana",
        "created_at": created,
        "updated_at": created,
    }
    return {**doc, **fields}


@dataclass
class Rig:
    """The events service's storage and use cases in this process, on a database,
    stream and subject prefix of the test's own (for tests of storage, jobs and
    use cases below the HTTP API)."""

    platform: PlatformSettings
    db: AsyncDatabase[dict[str, Any]]
    client: AsyncMongoClient[dict[str, Any]]
    outbox: Outbox
    broker: NatsBroker

    def relay(self, broker: NatsBroker | None = None) -> OutboxRelay:
        # No grace: a test sweeps exactly when it means to.
        return OutboxRelay(broker or self.broker, self.platform, self.outbox, grace=timedelta(0))

    def context(self, relay: OutboxRelay | None = None, **settings: Any) -> EventsContext:
        """A fresh one: what a restarted process or another replica would have."""
        uow = UnitOfWork(self.client, self.outbox, MessageFactory(self.platform, "/weft/events"), relay or self.relay())
        return EventsContext(uow, EventsStorage(self.db), EventsSettings(platform=self.platform, **settings))


@pytest.fixture
async def community(members: httpx.AsyncClient, events: httpx.AsyncClient) -> tuple[str, Person, str]:
    """A community the events service knows, its owner, and one scheduled event."""
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    created = await schedule(events, cid, owner)
    return cid, owner, created["id"]


@pytest.fixture
async def rig(nats_server, database) -> AsyncIterator[Rig]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "events") as env:
        outbox = Outbox(env.db)
        await outbox.create_indexes()
        await EventsStorage(env.db).create_indexes()
        broker = create_broker(env.platform, client_name="test-events")
        await broker.connect()
        try:
            yield Rig(env.platform, env.db, env.client, outbox, broker)
        finally:
            await broker.stop()
