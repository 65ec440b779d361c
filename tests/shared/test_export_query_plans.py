"""Every query a personal-data export sends reads through an index: each service's
gathering of one person's records, and membership's export requests. Run against a
seeded database per service with its own indexes created as on start-up; every
recorded query is explained and no winning plan may scan a collection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.support.query_plans import collection_scans, recording_database
from weft_events.storage import EventsStorage
from weft_events.storage.personal_data import EventsPersonalData
from weft_membership.storage import Storage as MembershipStorage
from weft_membership.storage.exports import Exports
from weft_membership.storage.personal_data import MembershipPersonalData
from weft_notifications.storage import NotificationsStorage
from weft_notifications.storage.personal_data import NotificationsPersonalData
from weft_resources.storage import ResourcesStorage
from weft_resources.storage.personal_data import ResourcesPersonalData
from weft_shared.service.clock import now

Doc = dict[str, Any]
# Per collection: documents made from `i`; enough that an index beats a scan.
SEED: dict[str, Callable[[int], Doc]] = {
    "users": lambda i: {"_id": f"u{i}", "display_name": f"P{i}"},
    "memberships": lambda i: {"_id": f"c{i % 9}:u{i}", "community_id": f"c{i % 9}", "user_id": f"u{i}",
                              "status": "active"},
    "communities": lambda i: {"_id": f"c{i}", "slug": f"c-{i}", "name": f"C{i}", "visibility": "public"},
    "invitations": lambda i: {"_id": f"i{i}", "token_hash": f"h{i}", "community_id": "c1", "status": "pending",
                              "invited_by": f"u{i}", "invited_user_id": f"u{i + 1}"},
    "events": lambda i: {"_id": f"e{i}", "community_id": "c1", "hosts": [f"u{i}"], "created_by": f"u{i}",
                         "starts_at": now(), "audience": ["c1"]},
    "rsvps": lambda i: {"_id": f"e{i % 9}:u{i}", "event_id": f"e{i % 9}", "user_id": f"u{i}", "status": "confirmed",
                        "mode": "in_person", "seq": i, "starts_at": now(), "community_id": "c1"},
    "check_ins": lambda i: {"_id": f"e{i % 9}:u{i}", "event_id": f"e{i % 9}", "user_id": f"u{i}", "starts_at": now()},
    "calendar_feeds": lambda i: {"_id": f"u{i}", "token_hash": f"t{i}"},
    "inbox": lambda i: {"_id": f"n{i}", "user_id": f"u{i % 50}", "seq": i, "key": f"k{i}", "read": False},
    "preferences": lambda i: {"_id": f"u{i}"},
    "email_outbox": lambda i: {"_id": f"m{i}", "user_id": f"u{i}", "status": "sent", "next_attempt_at": now()},
    "digests": lambda i: {"_id": f"u{i}:d", "user_id": f"u{i}", "kind": "daily", "through_seq": i},
    "view_people": lambda i: {"_id": f"u{i}", "display_name": f"P{i}", "seq": i},
    "webhooks": lambda i: {"_id": f"w{i}", "scope": "c1", "enabled": True, "created_by": f"u{i}", "log_key": f"w{i}"},
    "webhook_deliveries": lambda i: {"_id": f"d{i}", "webhook_id": f"w{i % 50}", "message_id": f"x{i}",
                                     "log_key": f"d{i}"},
    "resources": lambda i: {"_id": f"r{i}", "community_id": "c1", "created_by": f"u{i}", "status": "published"},
    "resource_versions": lambda i: {"_id": f"r{i}:1", "resource_id": f"r{i}", "number": 1, "created_by": f"u{i}"},
    "collections": lambda i: {"_id": f"col{i}", "community_id": "c1", "created_by": f"u{i}", "order_key": f"col{i}"},
    "threads": lambda i: {"_id": f"t{i}", "community_id": "c1", "author_id": f"u{i}", "listed": True},
    "replies": lambda i: {"_id": f"p{i}", "thread_id": f"t{i % 9}", "position": i, "author_id": f"u{i}"},
    "post_edits": lambda i: {"_id": f"t{i}:1", "post_id": f"t{i}", "number": 1},
    "post_reactions": lambda i: {"_id": f"t{i}:u{i}:heart", "post_id": f"t{i}", "user_id": f"u{i}"},
    "useful_marks": lambda i: {"_id": f"r{i}:u{i}", "resource_id": f"r{i}", "user_id": f"u{i}"},
    "thread_follows": lambda i: {"_id": f"t{i}:u{i}", "thread_id": f"t{i}", "user_id": f"u{i}"},
    "reports": lambda i: {"_id": f"rep{i}", "case_id": f"thread:t{i}", "reporter_id": f"u{i}", "state": "open"},
}  # fmt: skip


async def _seed(db: Any) -> None:
    for name, make in SEED.items():
        await db[name].insert_many([make(i) for i in range(200)])


def _services(db: Any) -> dict[str, tuple[Callable[[], Awaitable[None]], Any]]:
    return {
        "membership": (MembershipStorage.on(db).create_indexes, MembershipPersonalData(db)),
        "events": (EventsStorage(db).create_indexes, EventsPersonalData(db)),
        "notifications": (NotificationsStorage(db).create_indexes, NotificationsPersonalData(db)),
        "resources": (ResourcesStorage(db).create_indexes, ResourcesPersonalData(db)),
    }


@pytest.mark.parametrize("service", ["membership", "events", "notifications", "resources"])
async def test_gathering_a_persons_records_reads_through_indexes(database: Any, service: str) -> None:
    async with recording_database(database.url, f"export_plans_{service}") as (db, recorder):
        create_indexes, personal = _services(db)[service]
        await create_indexes()
        await personal.create_indexes()
        await _seed(db)
        recorder.commands.clear()
        data = await personal.gather("u7")
        assert any(data.values()), data  # it found the person's records
        explained, problems = await collection_scans(db, recorder.commands)
        assert problems == [], "\n".join(problems)
        assert explained >= len(recorder.commands) - 1


async def test_export_requests_read_through_indexes(database: Any) -> None:
    async with recording_database(database.url, "export_plans_requests") as (db, recorder):
        exports = Exports(db)
        await exports.create_indexes()
        at = now()
        for i in range(200):  # 40 people: one pending export each, four finished ones
            doc = {
                "_id": f"{i:024x}",
                "user_id": f"u{i % 40}",
                "requested_at": at - timedelta(minutes=i),
                "deadline_at": at + timedelta(minutes=i - 100),
                "expected": ["membership"],
                "parts": {},
            }
            if i < 40:
                await exports.insert({**doc, "status": "pending"})
            else:
                await db.exports.insert_one({**doc, "status": "ready"})  # fmt: skip
        recorder.commands.clear()
        assert (await exports.pending_of("u3")) is not None
        assert len(await exports.of_person("u3", 50)) == 5
        await exports.get(f"{3:024x}")
        await exports.record_part(f"{3:024x}", "membership", {"object_name": "x"})
        await exports.past_deadline(at, 50)
        assert await exports.finish(f"{3:024x}", "u3", {"status": "ready"})
        _explained, problems = await collection_scans(db, recorder.commands)
        assert problems == [], "\n".join(problems)
