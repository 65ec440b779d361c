"""Every query the inbox and the read model send reads through an index: each one is
recorded off the wire while every storage method runs (the API's list with each of
its filters and a cursor among them), then `explain`ed, and no winning plan may
contain a COLLSCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.query_plans import Recorder, collection_scans, public_methods, recording_database
from weft_notifications.storage.inbox import Inbox, NewItem
from weft_notifications.storage.read_model import ReadModel

Doc = dict[str, Any]


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[AsyncDatabase[Doc], Recorder]]:
    async with recording_database(database.url, "notifications_plans") as recorded:
        yield recorded


async def test_every_inbox_and_read_model_query_uses_an_index(
    recorded: tuple[AsyncDatabase[Doc], Recorder],
) -> None:
    db, recorder = recorded
    inbox, view = Inbox(db), ReadModel(db)
    await inbox.create_indexes()
    await view.create_indexes()
    called: set[str] = set()

    # Enough documents for the planner to have a choice: 20 people, 3 communities.
    people = [f"u{n:02}" for n in range(20)]
    for c in range(3):
        await view.record_community(f"c{c}", {"name": f"C{c}", "visibility": "public", "archived": False}, c + 1)
        for n, user in enumerate(people):
            role = "owner" if n == 0 else "member"
            await view.record_member(f"c{c}", user, {"active": True, "role": role, "banned": False}, 10 + n)
    await view.record_link("l1", {"communities": ["c0", "c1"], "share_events": True, "active": True}, 50)
    await view.record_place("e1", "u01", {"active": True, "status": "confirmed"}, 60)
    await view.record_event("e1", {"title": "Huddle", "timezone": "UTC"}, 61)
    await view.record_name("u01", "Una", 62)
    await view.record_contact("u02", "ula@example.org", 63)
    called |= {"record_community", "record_member", "record_link", "record_place", "record_event", "record_name"}
    called.add("record_contact")
    at = datetime.now(UTC)
    for n in range(30):
        fields = {
            "type": "reminder",
            "title": "t",
            "text": "x",
            "community_id": f"c{n % 3}",
            "about": [f"c{n % 3}"],
            "key": f"k{n}",
        }
        await inbox.deliver([NewItem(user, "in_app", {**fields, "created_at": at}) for user in people])
    called.add("deliver")

    me = "u01"
    for unread in (None, True, False):
        for community_id in (None, "c1"):
            for before in (None, 20):
                await inbox.page(me, before_seq=before, limit=11, unread=unread, community_id=community_id)
    [one] = await inbox.page(me, before_seq=None, limit=1, unread=None, community_id=None)
    await inbox.after(me, 5)
    await inbox.counter(me)
    await inbox.item(me, one["_id"])
    await inbox.mark_read(me, one["_id"], at)
    await inbox.mark_all_read(me, at, "c2")
    await inbox.mark_all_read(me, at, None)
    await inbox.already_given("k1", people)
    called |= {"page", "after", "counter", "item", "mark_read", "mark_all_read", "already_given"}
    about = [d async for batch in inbox.items_about("c2") for d in batch]
    assert about and await inbox.withdraw(about[:2]) == 2
    called |= {"items_about", "withdraw"}

    await view.community("c0")
    await view.person(me)
    await view.people_by_id(people)
    await view.names(people)
    await view.community_names(["c0", "c1"])
    await view.owners(["c0", "c1"])
    await view.staff("c0")
    await view.is_active_member("c0", me)
    assert await view.active_members_among("c0", people) == set(people)
    assert await view.hold_communities(["c0", "c1"]) == set()
    batches = [b async for b in view.member_batches("c0", batch=7)]
    assert sum(len(b) for b in batches) == len(people)
    await view.linked_communities("c0", sharing="share_events")
    await view.holders("e1")
    await view.event("e1")
    called |= {
        "community",
        "person",
        "people_by_id",
        "names",
        "community_names",
        "owners",
        "staff",
        "is_active_member",
        "active_members_among",
        "hold_communities",
        "member_batches",
        "linked_communities",
        "holders",
        "event",
    }

    assert public_methods(Inbox) | public_methods(ReadModel) <= called  # every query method ran
    explained, problems = await collection_scans(db, recorder.commands)
    assert explained >= 40
    assert problems == []
