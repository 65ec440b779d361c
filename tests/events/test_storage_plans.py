"""Every query the events storage sends reads through an index: each one is
recorded off the wire while every storage method runs, then `explain`ed on the
database, and no winning plan may contain a COLLSCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.events.conftest import Rig
from tests.support.query_plans import Calls, Recorder, collection_scans, recording_client
from weft_events.domain.events import AttendanceMode
from weft_events.storage import EventsStorage

Doc = dict[str, Any]


@pytest.fixture
async def recorded(rig: Rig, database) -> AsyncIterator[tuple[EventsStorage, Recorder]]:  # type: ignore[no-untyped-def]
    async with recording_client(database.url) as (client, recorder):
        yield EventsStorage(client[rig.db.name]), recorder


def occurrence(event_id: str, community_id: str, starts_at: datetime, **fields: Any) -> Doc:
    return {
        "_id": event_id,
        "series_id": "s1",
        "community_id": community_id,
        "cohost_community_ids": ["c2"],
        "audience": [community_id, "c2"],
        "title": "Huddle",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=1),
        "status": "scheduled",
        "capacity": {"in_person": 2, "online": None},
        "confirmed": {"in_person": 0, "online": 0},
        "waitlisted": {"in_person": 0, "online": 0},
        "rsvp_seq": 0,
        "checked_in": 0,
        "next_reminder_at": starts_at - timedelta(hours=1),
        **fields,
    }


def place(event: Doc, user_id: str, seq: int, status: str) -> Doc:
    return {
        "_id": f"{event['_id']}:{user_id}",
        "event_id": event["_id"],
        "user_id": user_id,
        "community_id": event["community_id"],
        "starts_at": event["starts_at"],
        "mode": "in_person",
        "status": status,
        "seq": seq,
        "at": event["starts_at"] - timedelta(days=1),
    }


async def exercise(storage: EventsStorage) -> list[Calls]:
    """Call every storage method, on documents enough for the planner to have a choice."""
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    events = [occurrence(f"e{i:02}", f"c{i % 3}", base + timedelta(hours=i)) for i in range(30)]
    stores = [
        Calls(s)
        for s in (
            storage.events,
            storage.series,
            storage.rsvps,
            storage.check_ins,
            storage.membership,
            storage.calendar_feeds,
        )
    ]
    ev, series, rsvps, check_ins, membership, feeds = stores
    await ev.insert_many(events)
    await series.insert({"_id": "s1", "community_id": "c0", "rrule": "FREQ=WEEKLY;COUNT=2"})
    for i, event in enumerate(events[:10]):
        for n in range(4):
            await rsvps.put(place(event, f"u{n}", n + 1, "confirmed" if n < 2 else "waitlisted"))
        await check_ins.insert({**place(event, "u0", 1, "confirmed"), "checked_in_at": base, "checked_in_by": "h"})
        await ev.update(event["_id"], fields={"title": f"Huddle {i}"}, inc={"rsvp_seq": 4})
    for c in range(3):
        await membership.record_community(f"c{c}", {"name": f"C{c}", "visibility": "public", "archived": False}, c)
        for n in range(4):
            await membership.record_member(f"c{c}", f"u{n}", {"active": True, "role": "member"}, 10 + n)
    await membership.record_link("l1", {"communities": ["c0", "c1"], "share_events": True, "active": True}, 20)
    await feeds.replace("u0", "hash-u0", at=base)

    e0 = events[0]
    await ev.get(e0["_id"])
    await ev.by_ids([e["_id"] for e in events[:5]])
    await ev.community_page("c0", start=base, end=None, after=None, limit=3)
    await ev.community_page("c0", start=base, end=base + timedelta(days=2), after=(e0["starts_at"], "e00"), limit=3)
    await ev.upcoming_of_community("c1", after=base)
    await ev.calendar_of_community("c2", start=base, end=base + timedelta(days=2), limit=100)
    await ev.upcoming_with_audience("c1", after=base)
    await ev.series_from("s1", base)
    await ev.due_for_reminders(base + timedelta(days=1), limit=10)
    await rsvps.get(e0["_id"], "u3")
    await rsvps.of_event(e0["_id"])
    head = await rsvps.waitlist_head(e0["_id"], AttendanceMode.IN_PERSON, limit=1)
    await rsvps.waitlist_position(e0["_id"], "in_person", 4)
    await rsvps.confirm([h["_id"] for h in head], at=base)
    await rsvps.confirmed_user_ids(e0["_id"])
    await rsvps.confirmed_of_person("u1", start=base, end=base + timedelta(days=30), limit=100)
    await rsvps.of_person_at("u1", [e["_id"] for e in events[:5]])
    await rsvps.upcoming_of_member("c0", "u2", after=base - timedelta(days=1))
    await rsvps.move_start(e0["_id"], base + timedelta(minutes=5))
    await rsvps.delete(e0["_id"], "u2")
    await check_ins.get(e0["_id"], "u0")
    await check_ins.of_event(e0["_id"])
    await check_ins.of_person_newest_first("u0", start=None, end=None, before=None, limit=5)
    await check_ins.of_person_newest_first(
        "u0", start=base, end=base + timedelta(days=2), before=(events[3]["starts_at"], "e03"), limit=5
    )
    await check_ins.move_start(e0["_id"], base + timedelta(minutes=5))
    await membership.hold_member("c0", "u0")
    await membership.hold_community("c0")
    await membership.hold_links(["c0", "c1"])
    await membership.community("c0")
    await membership.standing("u1")
    await membership.linked_for_events("c0", "c1")
    await membership.active_staff("c0", ["u0", "u1"])
    await membership.banned_from("u1", ["c0", "c1"])
    await feeds.get("u0")
    await feeds.owner_of("hash-u0")
    await feeds.revoke("u0", at=base)
    return stores


async def test_every_storage_query_reads_through_an_index(
    recorded: tuple[EventsStorage, Recorder],
) -> None:
    storage, recorder = recorded
    await storage.create_indexes()
    stores = await exercise(storage)
    for store in stores:
        assert store.methods() <= store.called, f"not exercised: {store.methods() - store.called}"

    explained, problems = await collection_scans(storage.db, recorder.commands)
    assert problems == [], "\n".join(problems)
    assert explained >= len(recorder.commands) > 40
