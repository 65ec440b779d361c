"""Every query of the moderation storage (reports and the queue, the log, the content it
acts on) reads through an index: each is recorded off the wire while every storage
method runs, then `explain`ed; no winning plan may contain a COLLSCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.query_plans import Recorder, collection_scans, public_methods, recording_database
from weft_resources.domain.moderation import ContentKind, case_key
from weft_resources.storage.moderation import ModeratedContent
from weft_resources.storage.moderation_log import ModerationLog
from weft_resources.storage.reports import Reports
from weft_resources.storage.search_feed import SearchFeed
from weft_shared.service.ids import new_id

Doc = dict[str, Any]


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[AsyncDatabase[Doc], Recorder]]:
    async with recording_database(database.url, "moderation_plans") as recorded:
        yield recorded


async def test_every_moderation_query_uses_an_index(recorded: tuple[AsyncDatabase[Doc], Recorder]) -> None:
    db, recorder = recorded
    reports, log, content = Reports(db), ModerationLog(db), ModeratedContent(db, touch=SearchFeed(db).touch)
    for storage in (reports, log, content):
        await storage.create_indexes()
    called: set[str] = set()

    # Enough documents for the planner to have a choice: 3 communities, 40 replies, 80 reports.
    start = datetime(2027, 1, 1, tzinfo=UTC)
    replies = []
    for n in range(40):
        reply = {"_id": new_id(), "thread_id": "t1", "community_id": f"c{n % 3}", "body_markdown": f"reply {n}"}
        await db.replies.insert_one(reply)
        replies.append(reply)
    await db.threads.insert_one({"_id": "t1", "community_id": "c0", "title": "A thread", "kind": "discussion"})
    for n in range(80):
        reply = replies[n % 40]
        case_id = case_key(ContentKind.REPLY, reply["_id"])
        reporter = f"u{n // 40}"
        report: Doc = {
            "_id": new_id(),
            "case_id": case_id,
            "community_id": reply["community_id"],
            "content": {"kind": "reply", "id": reply["_id"], "community_id": reply["community_id"], "thread_id": "t1"},
            "reporter_id": reporter,
            "reason": "spam",
            "details": "",
            "state": "open",
            "created_at": start + timedelta(minutes=n),
        }
        assert await reports.open_report_of(case_id, reporter) is None
        await reports.add(report)
    called |= {"open_report_of", "add"}

    first = await reports.queue_page("c0", after=None, limit=5)
    assert len(first) == 6 and first[0]["open_reports"] == 2
    await reports.queue_page("c0", after=first[4]["queue_key"], limit=5)
    assert len(await reports.open_reports_of([c["_id"] for c in first])) == 12
    assert await reports.close_case(first[0]["_id"], closed_by="m", outcome="dismiss", at=start) == 2
    called |= {"queue_page", "open_reports_of", "close_case"}

    for n in range(30):
        entry = {"_id": new_id(), "community_id": f"c{n % 3}", "at": start, "moderator_id": "m", "action": "hide"}
        await log.append(entry)
    newest = await log.page("c1", before=None, limit=4)
    assert len(newest) == 5
    assert len(await log.page("c1", before=newest[3]["log_key"], limit=4)) == 5
    called |= {"append", "page"}

    await content.get(ContentKind.REPLY, replies[0]["_id"])
    await content.many(ContentKind.REPLY, [r["_id"] for r in replies[:5]])
    await content.set_moderation(ContentKind.REPLY, replies[0]["_id"], {"state": "hidden"}, {})
    await content.set_locked("t1", True)
    await content.withdraw_accepted_answer("t1", "r1")
    called |= {"get", "many", "set_moderation", "set_locked", "withdraw_accepted_answer"}

    assert public_methods(Reports) | public_methods(ModerationLog) | public_methods(ModeratedContent) <= called
    explained, problems = await collection_scans(db, recorder.commands)
    assert explained >= 15
    assert problems == []
