"""Digests: at the person's local hour, one mail listing their unread notifications
routed to that digest since the last one; nothing when there is nothing; once per
period across restarts and replicas. The jobs run here on the real database with
a clock the test sets (`DigestJob(ctx, clock=...)`), and mail a real aiosmtpd."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pymongo import AsyncMongoClient

from tests.support.mail_context import add_address, give, mail_context, new_database_name
from tests.support.query_plans import Recorder, collection_scans
from tests.support.smtp import SmtpServer, smtp_server
from weft_cli.ladder import DatabaseHandle
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.digest_periods import Schedule, period_due
from weft_notifications.jobs.digests import DigestJob
from weft_notifications.jobs.email_sender import EmailSender
from weft_notifications.storage.digests import Digests
from weft_notifications.storage.email_outbox import EmailOutbox
from weft_notifications.storage.preferences import Preferences
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.service.clock import now

Doc = dict[str, Any]
NEW_EVENT = NotificationType.EVENT_SCHEDULED  # goes to the daily digest by default


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def next_local(zone: str, hour: int, minute: int, *, weekday: int | None = None) -> datetime:
    """The first local `hour:minute` (on `weekday`, if given) more than a minute from now, as UTC."""
    tz = ZoneInfo(zone)
    earliest = now() + timedelta(minutes=1)
    day = earliest.astimezone(tz).date()
    while True:
        candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if candidate > earliest and (weekday is None or day.weekday() == weekday):
            return candidate.astimezone(UTC)
        day += timedelta(days=1)


async def digest_records(ctx: NotificationsContext) -> list[Doc]:
    return await ctx.storage.digests.collection.find({}).sort([("_id", 1)]).to_list()


async def queued_digests(ctx: NotificationsContext) -> list[Doc]:
    return await ctx.storage.email_outbox.collection.find({"digest": {"$exists": True}}).sort([("_id", 1)]).to_list()


async def set_preferences(ctx: NotificationsContext, user_id: str, **fields: Any) -> None:
    await ctx.storage.preferences.collection.insert_one({"_id": user_id, **fields})


async def test_a_daily_digest_lists_unread_items_once_per_period(database: DatabaseHandle, smtp: SmtpServer) -> None:
    name = new_database_name()
    async with mail_context(database.url, name, smtp) as ctx:
        for person in ("ana", "dan", "cat"):
            await add_address(ctx, person, f"{person}@example.org")
        await give(ctx, ["ana", "cat"], type=NEW_EVENT, title="Falls clinic on Tuesday", community_id="c1")
        await give(ctx, ["ana", "cat"], type=NEW_EVENT, title="Strength & balance <class>", community_id="c1")
        await give(ctx, ["dan"])  # mailed at once, not digested
        await ctx.storage.inbox.mark_all_read("cat", now(), None)  # read already: nothing to tell
        at = next_local("Europe/London", 8, 5)
        job = DigestJob(ctx, clock=lambda: at)

        assert await job.run_once() == 1
        assert await job.run_once() == 0
        [record] = await digest_records(ctx)
        day = at.astimezone(ZoneInfo("Europe/London")).date()
        assert record["_id"] == f"ana:daily:{day.isoformat()}" and record["count"] == 2
        [queued] = await queued_digests(ctx)
        assert [i["title"] for i in queued["digest"]["items"]] == [
            "Falls clinic on Tuesday",
            "Strength & balance <class>",
        ]

        assert await EmailSender(ctx, clock=lambda: at).run_once() == 2  # Dan's own mail, and Ana's digest
        [mail] = smtp.catcher.to("ana@example.org")
        assert mail["Subject"] == "[Weft] 2 notifications today"
        assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:8080/v1/unsubscribe/")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "Falls clinic on Tuesday" in text and "Strength & balance <class>" in text
        assert "Strength &amp; balance &lt;class&gt;" in html
        assert smtp.catcher.to("cat@example.org") == []

    # A restart (a new process on the same database) finds the period done.
    async with mail_context(database.url, name, smtp) as restarted:
        assert await DigestJob(restarted, clock=lambda: at).run_once() == 0
        tomorrow, after = at + timedelta(days=1), at + timedelta(days=2)
        assert await DigestJob(restarted, clock=lambda: tomorrow).run_once() == 0  # nothing new: no mail
        assert [r["count"] for r in await digest_records(restarted)] == [2, 0]
        await give(restarted, ["ana"], type=NEW_EVENT, title="Walking group", community_id="c1")
        assert await DigestJob(restarted, clock=lambda: after).run_once() == 1
        queued = await queued_digests(restarted)
        assert [[i["title"] for i in q["digest"]["items"]] for q in queued] == [
            ["Falls clinic on Tuesday", "Strength & balance <class>"],
            ["Walking group"],
        ]


async def test_the_digest_waits_for_the_persons_own_hour(database: DatabaseHandle) -> None:
    async with mail_context(database.url, new_database_name()) as ctx:
        await set_preferences(ctx, "ana", timezone="Asia/Tokyo", digest_hour=7)
        await give(ctx, ["ana"], type=NEW_EVENT)
        before = next_local("Asia/Tokyo", 6, 55)

        assert await DigestJob(ctx, clock=lambda: before).run_once() == 0
        assert await DigestJob(ctx, clock=lambda: before + timedelta(minutes=10)).run_once() == 1
        # Before 07:00 Tokyo time, yesterday's period was due: empty (the item came after it).
        empty, sent = await digest_records(ctx)
        assert empty["count"] == 0 and empty["due_at"] == before + timedelta(minutes=5) - timedelta(days=1)
        assert sent["count"] == 1 and sent["due_at"] == before + timedelta(minutes=5)


async def test_nothing_is_sent_when_there_is_nothing(database: DatabaseHandle) -> None:
    async with mail_context(database.url, new_database_name()) as ctx:
        await give(ctx, ["ana"])  # an emailed type: not for a digest
        at = next_local("Europe/London", 8, 5)
        assert await DigestJob(ctx, clock=lambda: at).run_once() == 0
        assert await digest_records(ctx) == [] and await queued_digests(ctx) == []


async def test_a_weekly_digest_goes_on_the_persons_day_once_a_week(database: DatabaseHandle) -> None:
    async with mail_context(database.url, new_database_name()) as ctx:
        prefs = {"defaults": {NEW_EVENT.value: "digest_weekly"}, "timezone": "America/New_York"}
        await set_preferences(ctx, "ana", digest_hour=18, weekly_digest_day="friday", **prefs)
        await give(ctx, ["ana"], type=NEW_EVENT)
        friday = next_local("America/New_York", 18, 5, weekday=4)

        assert await DigestJob(ctx, clock=lambda: friday - timedelta(minutes=10)).run_once() == 0
        assert await DigestJob(ctx, clock=lambda: friday).run_once() == 1
        for later in (timedelta(days=1), timedelta(days=6)):
            assert await DigestJob(ctx, clock=lambda at=friday + later: at).run_once() == 0
        # Ten minutes early, last week's period was due: empty (the item came after it).
        empty, record = await digest_records(ctx)
        assert empty["count"] == 0 and record["kind"] == "weekly" and record["count"] == 1
        assert record["period"] == f"weekly:{friday.astimezone(ZoneInfo('America/New_York')).date()}"


async def test_two_replicas_queue_each_digest_once(database: DatabaseHandle) -> None:
    name = new_database_name()
    people = [f"p{i}" for i in range(6)]
    async with mail_context(database.url, name) as one, mail_context(database.url, name) as two:
        await give(one, people, type=NEW_EVENT)
        at = next_local("Europe/London", 8, 5)
        queued = await asyncio.gather(
            DigestJob(one, clock=lambda: at).run_once(), DigestJob(two, clock=lambda: at).run_once()
        )
        assert sum(queued) == len(people)
        assert len(await digest_records(one)) == len(await queued_digests(one)) == len(people)
        assert await DigestJob(two, clock=lambda: at).run_once() == 0


def test_periods_follow_the_local_clock_across_a_clock_change() -> None:
    london = Schedule("Europe/London", 8, "monday")
    # 2027-03-28: clocks go forward in London; 08:00 local is 07:00 UTC.
    assert period_due("daily", london, datetime(2027, 3, 28, 6, 59, tzinfo=UTC)).name == "daily:2027-03-27"
    assert period_due("daily", london, datetime(2027, 3, 28, 7, 0, tzinfo=UTC)).due_at == datetime(
        2027, 3, 28, 7, tzinfo=UTC
    )
    # Monday 2027-03-29 07:00 UTC is 08:00 in London: that week's digest is due.
    assert period_due("weekly", london, datetime(2027, 3, 29, 6, 59, tzinfo=UTC)).name == "weekly:2027-03-22"
    assert period_due("weekly", london, datetime(2027, 3, 29, 7, 0, tzinfo=UTC)).name == "weekly:2027-03-29"
    assert period_due("weekly", london, datetime(2027, 4, 4, 23, 0, tzinfo=UTC)).name == "weekly:2027-03-29"
    lisbon_night = Schedule("Pacific/Auckland", 8, "sunday")
    # Saturday 20:00 UTC is Sunday 09:00 in Auckland.
    assert period_due("weekly", lisbon_night, datetime(2027, 1, 2, 20, 0, tzinfo=UTC)).name == "weekly:2027-01-03"


async def test_mail_and_digest_queries_read_through_an_index(database: DatabaseHandle) -> None:
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, event_listeners=[recorder], tz_aware=True)
    db = client[new_database_name()]
    digests, outbox, preferences = Digests(db), EmailOutbox(db), Preferences(db)
    try:
        await digests.create_indexes()
        await outbox.create_indexes()
        await preferences.create_indexes()
        await db.inbox.create_index([("user_id", 1), ("seq", -1)], unique=True)
        at = now()
        await db.inbox.insert_many(
            [
                {"_id": f"i{n}", "user_id": f"u{n % 50}", "seq": n, "channel": ["digest_daily", "email"][n % 2],
                 "read": n % 3 == 0, "created_at": at}
                for n in range(600)
            ]
        )  # fmt: skip
        await db.digests.insert_many(
            [
                {"_id": f"u{n}:daily:2026-12-0{n % 9 + 1}", "user_id": f"u{n}", "kind": "daily", "through_seq": n}
                for n in range(50)
            ]
        )
        await outbox.collection.insert_many(
            [{"_id": f"m{n}", "user_id": "u1", "status": ["pending", "sent", "sending"][n % 3],
              "next_attempt_at": at, "lease_until": at, "attempts": 0} for n in range(300)]
        )  # fmt: skip
        recorder.commands.clear()

        await digests.waiting("digest_daily")
        await digests.unread("u1", "digest_daily", 0, 100)
        await digests.last("u1", "daily")
        await digests.record("u1:daily:2026-12-02")
        await digests.existing(["u1:daily:2026-12-02", "u2:daily:2026-12-03"])
        held = await outbox.claim_due(at, "c1", at + timedelta(seconds=60))
        assert held is not None
        await outbox.mark_sent(held["_id"], "c1", at)
        sent = list(recorder.commands)
        await outbox.collection.update_many({}, {"$set": {"status": "sent"}})  # (the test's own write)
        recorder.commands.clear()
        await outbox.claim_due(at, "c2", at)  # nothing pending: falls through to lapsed leases
        await outbox.record("m1")
        await preferences.of("u1")
        await preferences.of_people(["u1", "u2"])

        explained, scans = await collection_scans(db, sent + recorder.commands)
        assert explained >= 10 and scans == []
    finally:
        await client.drop_database(db.name)
        await client.close()
