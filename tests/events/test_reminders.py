"""Reminder due: exactly once per occurrence and offset, on a real nats-server and database.

Occurrence documents are inserted as DOCUMENTS.md describes them, so these tests pin
the reminder job to the stored shape, not to the API that writes it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.events.conftest import Rig, occurrence_document
from tests.support.bus import BusMessage, stream_messages
from weft_events.domain.reminders import next_reminder, plan_reminders, reminder_message_id, reminder_schedule
from weft_events.jobs.reminders import ReminderJob
from weft_shared.contracts.events import ReminderDue
from weft_shared.contracts.subjects import type_wildcard
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.outbox import OutboxRelay

Doc = dict[str, Any]
SECRET_LINK = "https://meet.example/secret-room-4711"
MINUTE = timedelta(minutes=1)


def now() -> datetime:
    """Milliseconds, as the database stores them, so stored times compare equal."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def reminder(due_at: datetime, sent_at: datetime | None = None) -> Doc:
    return {"due_at": due_at, "sent_at": sent_at}


def occurrence(
    starts_at: datetime, reminders: dict[str, Doc], *, status: str = "scheduled", community_id: str = "c1"
) -> Doc:
    """An online event for one, with one confirmed and one waitlisted place (`places_of`)."""
    return occurrence_document(
        starts_at,
        community_id=community_id,
        status=status,
        format="online",
        joining_link=SECRET_LINK,
        capacity={"in_person": None, "online": 1},
        confirmed={"in_person": 0, "online": 1},
        waitlisted={"in_person": 0, "online": 1},
        rsvp_seq=2,
        reminders=reminders,
        next_reminder_at=next_reminder(reminders),
    )


def places_of(event: Doc) -> list[Doc]:
    """Ana's confirmed place and Ben's waitlisted one, as DOCUMENTS.md describes `rsvps`."""
    return [
        {
            "_id": f"{event['_id']}:{user_id}",
            "event_id": event["_id"],
            "user_id": user_id,
            "community_id": event["community_id"],
            "starts_at": event["starts_at"],
            "mode": "online",
            "status": status,
            "seq": seq,
            "at": event["created_at"],  # a week ago
        }
        for seq, (user_id, status) in enumerate([("ana", "confirmed"), ("ben", "waitlisted")], start=1)
    ]


class Reminders:
    """The reminder job over the rig's database, and what it left on the bus."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.events = rig.db.events

    def job(self, relay: OutboxRelay | None = None, *, poll_interval: float = 5.0) -> ReminderJob:
        """A fresh job: what a restarted process or another replica would have."""
        return ReminderJob(self.rig.context(relay), poll_interval=poll_interval)

    async def pending(self) -> int:
        return await self.rig.outbox.pending_count()

    async def insert(self, *docs: Doc) -> None:
        await self.events.insert_many(list(docs))
        await self.rig.db.rsvps.insert_many([p for d in docs for p in places_of(d)])

    async def get(self, event_id: str) -> Doc:
        doc = await self.events.find_one({"_id": event_id})
        assert doc is not None
        return doc

    async def reminders_on_bus(self) -> list[BusMessage]:
        subject = type_wildcard(self.rig.platform.subject_prefix, ReminderDue)
        return await stream_messages(self.rig.platform.nats_url, subject, stream=self.rig.platform.stream_name)

    async def sent(self) -> Counter[tuple[str, int]]:
        """(occurrence id, offset) -> how many reminder messages the stream holds."""
        payloads = [ReminderDue.model_validate(m.body["data"]) for m in await self.reminders_on_bus()]
        return Counter((p.event.id, p.offset_minutes) for p in payloads)


async def test_due_reminders_go_out_once_and_a_restart_sends_nothing_more(rig: Rig) -> None:
    reminders = Reminders(rig)
    t = now()
    soon = t + 30 * MINUTE
    due_now = occurrence(
        soon, {"1440": reminder(soon - 1440 * MINUTE, t - 5 * MINUTE), "60": reminder(soon - 60 * MINUTE)}
    )
    later = t + timedelta(days=3)
    not_yet = occurrence(later, {"1440": reminder(later - 1440 * MINUTE), "60": reminder(later - 60 * MINUTE)})
    cancelled = occurrence(soon, {"60": reminder(soon - 60 * MINUTE)}, status="cancelled")
    # Due 14 h ago (the service was down) but still ahead of the start: late beats never.
    tonight = t + 10 * 60 * MINUTE
    late = occurrence(tonight, {"1440": reminder(tonight - 1440 * MINUTE), "60": reminder(tonight - 60 * MINUTE)})
    await reminders.insert(due_now, not_yet, cancelled, late)

    assert await reminders.job().run_once() == 2

    assert await reminders.sent() == {(due_now["_id"], 60): 1, (late["_id"], 1440): 1}
    message = next(m for m in await reminders.reminders_on_bus() if m.body["data"]["event"]["id"] == due_now["_id"])
    assert message.subject == f"{rig.platform.subject_prefix}.reminder.due.v1.c1"
    assert message.type == "org.weft.reminder.due.v1"
    expected_id = reminder_message_id(due_now["_id"], "60", due_now["reminders"]["60"]["due_at"])
    assert message.body["id"] == message.headers["Nats-Msg-Id"] == expected_id
    payload = ReminderDue.model_validate(message.body["data"])
    assert payload.confirmed_user_ids == ["ana"]  # not the waitlisted person
    assert payload.event.title == "Wound care round table"
    assert SECRET_LINK.encode() not in message.raw and b"joining_link" not in message.raw

    stored = await reminders.get(due_now["_id"])
    assert stored["reminders"]["60"]["sent_at"] is not None and "skipped" not in stored["reminders"]["60"]
    assert stored["next_reminder_at"] is None
    assert await reminders.pending() == 0  # published by the fast path
    assert (await reminders.get(late["_id"]))["next_reminder_at"] == late["reminders"]["60"]["due_at"]
    for untouched in (not_yet, cancelled):
        assert (await reminders.get(untouched["_id"]))["reminders"] == untouched["reminders"]

    # A restarted process: a new job over the same documents.
    assert await reminders.job().run_once() == 0
    assert sum((await reminders.sent()).values()) == 2


async def test_two_replicas_send_each_reminder_once(rig: Rig) -> None:
    reminders = Reminders(rig)
    t = now()
    docs = [occurrence(t + 30 * MINUTE, {"60": reminder(t - 30 * MINUTE + i * 0.001 * MINUTE)}) for i in range(30)]
    await reminders.insert(*docs)
    replicas = [reminders.job(poll_interval=0.02) for _ in range(2)]

    sent = await asyncio.gather(*(r.run_once() for r in replicas))
    for replica in replicas:  # and their loops, racing over what is left (nothing)
        replica.start()
    await asyncio.sleep(0.5)
    for replica in replicas:
        await replica.stop()

    assert sum(sent) == 30
    assert await reminders.sent() == {(d["_id"], 60): 1 for d in docs}
    for doc in docs:
        assert (await reminders.get(doc["_id"]))["reminders"]["60"]["sent_at"] is not None


async def test_a_crash_between_claim_and_publish_still_sends_once(rig: Rig) -> None:
    reminders = Reminders(rig)
    t = now()
    doc = occurrence(t + 30 * MINUTE, {"60": reminder(t - MINUTE)})
    await reminders.insert(doc)
    # A broker that never connected: the publish fails as if the process died right
    # after its commit. The message waits in the outbox.
    dead_broker = create_broker(rig.platform, client_name="never-connected")
    assert await reminders.job(rig.relay(dead_broker)).run_once() == 1
    assert await reminders.pending() == 1
    assert await reminders.sent() == {}

    restarted_relay = rig.relay()
    assert await reminders.job(restarted_relay).run_once() == 0  # already claimed: no second message
    assert await restarted_relay.sweep() == 1
    assert await reminders.sent() == {(doc["_id"], 60): 1}
    assert await reminders.pending() == 0


async def test_a_moved_event_is_reminded_at_its_new_time_not_before(rig: Rig) -> None:
    reminders = Reminders(rig)
    t = now()
    doc = occurrence(t + 30 * MINUTE, {"60": reminder(t - 30 * MINUTE)})
    await reminders.insert(doc)
    job = reminders.job()
    assert await job.run_once() == 1

    # What a PATCH of the start time does: a fresh schedule from the new start.
    new_start = t + 3 * 60 * MINUTE
    schedule = reminder_schedule(new_start, [1440, 60], t)
    assert list(schedule) == ["60"]  # the 24 h reminder of a meeting 3 h away is already past
    await reminders.events.update_one(
        {"_id": doc["_id"]},
        {
            "$set": {"starts_at": new_start, "reminders": schedule, "next_reminder_at": next_reminder(schedule)},
        },
    )
    assert await job.run_once() == 0

    # Even a stale `next_reminder_at` cannot fire it early: the per-offset due time decides.
    await reminders.events.update_one({"_id": doc["_id"]}, {"$set": {"next_reminder_at": t - MINUTE}})
    assert await job.run_once() == 0
    assert (await reminders.get(doc["_id"]))["next_reminder_at"] == schedule["60"]["due_at"]  # and it is put right
    assert await reminders.sent() == {(doc["_id"], 60): 1}

    # Time passes: the moved reminder comes due and goes out once, with the new start.
    await reminders.events.update_one(
        {"_id": doc["_id"]},
        {"$set": {"reminders.60.due_at": now() - 0.1 * MINUTE, "next_reminder_at": now() - 0.1 * MINUTE}},
    )
    assert await job.run_once() == 1
    assert await reminders.job().run_once() == 0
    assert await reminders.sent() == {(doc["_id"], 60): 2}
    latest = ReminderDue.model_validate((await reminders.reminders_on_bus())[-1].body["data"])
    assert latest.event.starts_at == new_start


async def test_a_reminder_that_comes_too_late_is_skipped_without_a_message(rig: Rig) -> None:
    reminders = Reminders(rig)
    t = now()
    started = occurrence(t - 10 * MINUTE, {"60": reminder(t - 70 * MINUTE)})
    soon = t + 30 * MINUTE
    both_due = occurrence(soon, {"1440": reminder(soon - 1440 * MINUTE), "60": reminder(soon - 60 * MINUTE)})
    await reminders.insert(started, both_due)

    assert await reminders.job().run_once() == 1

    assert await reminders.sent() == {(both_due["_id"], 60): 1}  # only the one closest to the start
    stored = await reminders.get(started["_id"])
    assert stored["reminders"]["60"]["skipped"] is True and stored["reminders"]["60"]["sent_at"] is not None
    assert stored["next_reminder_at"] is None and await reminders.pending() == 0
    superseded = (await reminders.get(both_due["_id"]))["reminders"]["1440"]
    assert superseded["skipped"] is True and superseded["sent_at"] is not None
    assert await reminders.job().run_once() == 0


def test_plan_sends_the_closest_due_reminder_before_the_start_only() -> None:
    t = now()
    start = t + 30 * MINUTE
    event = {"starts_at": start, "reminders": {"1440": reminder(start - 1440 * MINUTE), "60": reminder(t - MINUTE)}}
    plan = plan_reminders(event, t)
    assert (plan.fire, plan.skip) == (("60",), ("1440",))
    assert plan_reminders(event, start).fire == ()  # at the start: too late for any
    assert plan_reminders({"starts_at": start, "reminders": {"60": reminder(t + MINUTE)}}, t).offsets == ()
