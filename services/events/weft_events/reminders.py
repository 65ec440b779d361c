"""`reminder.due` messages: once per occurrence and offset, across restarts and replicas.

No in-memory timers. Each occurrence stores its reminders
(`reminders.<offset>.due_at/sent_at`) and `next_reminder_at` (DOCUMENTS.md). Every
replica polls for due occurrences and claims a reminder with ONE conditional update
that marks it sent, in one transaction with its message. Only one write can
match `sent_at: None`, so neither a restart nor a second replica sends it again; the
outbox relay then publishes it (and its sweeper does, if this process dies first).

Rescheduling replaces `reminders` and `next_reminder_at` (domain.reminder_schedule),
so a moved reminder's new `due_at` lies ahead and it fires at the new time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_events.domain import EventStatus, next_reminder
from weft_events.snapshots import event_snapshot
from weft_shared.contracts.events import ReminderDue
from weft_shared.periodic import Periodic
from weft_shared.storage.unit_of_work import Outgoing, Transaction, UnitOfWork

Doc = dict[str, Any]
log = logging.getLogger("weft.events.reminders")

# A write that loses to a concurrent change of the occurrence (an RSVP, an edit)
# re-reads it and tries again; what is left over waits for the next poll.
MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    fire: tuple[str, ...]  # offsets whose message goes out now
    skip: tuple[str, ...]  # offsets marked done without a message

    @property
    def offsets(self) -> tuple[str, ...]:
        return self.fire + self.skip


def plan_reminders(event: Mapping[str, Any], now: datetime) -> ReminderPlan:
    """Which of the occurrence's due, unsent reminders to send and which to skip.

    A reminder says "starts in N minutes"; one that comes too late would mislead, so
    after downtime (or a slow poll):
    - the event has started: skip them all; a reminder after the start helps no one;
    - several are due at once: send only the closest to the start (the smallest
      offset) and skip the others, rather than "starts in 24 h" and "in 1 h" together.
    A late reminder that is still the closest and precedes the start is sent late.
    """
    due = sorted(
        (offset for offset, r in event.get("reminders", {}).items() if r.get("sent_at") is None and r["due_at"] <= now),
        key=int,
    )
    if not due:
        return ReminderPlan((), ())
    if event["starts_at"] <= now:
        return ReminderPlan((), tuple(due))
    return ReminderPlan((due[0],), tuple(due[1:]))


def reminder_message_id(event_id: str, offset: str, due_at: datetime) -> str:
    """The same id for the same reminder, wherever and however often it is built: JetStream
    dedupes it by `Nats-Msg-Id` and consumers by envelope id, a second guard behind the
    conditional write. `due_at` is in it because a rescheduled reminder is a new one (it is
    always due after the old one fired, so the id is never reused)."""
    millis = int(due_at.timestamp() * 1000)
    return f"reminder-{event_id}-{offset}-{millis}"


def reminder_message(event: Mapping[str, Any], offset: str) -> Outgoing:
    payload = ReminderDue(
        event=event_snapshot(event),  # never carries the joining link
        offset_minutes=int(offset),
        confirmed_user_ids=[a["user_id"] for a in event.get("attendees", []) if a["status"] == "confirmed"],
    )
    message_id = reminder_message_id(str(event["_id"]), offset, event["reminders"][offset]["due_at"])
    return Outgoing(payload, event["community_id"], message_id=message_id)


def reminder_write(event: Mapping[str, Any], plan: ReminderPlan, now: datetime) -> tuple[Doc, Doc]:
    """The filter and update that claim the planned reminders in one single-document write.

    The per-reminder conditions are what make a reminder go out once; `rev` makes the
    message describe the occurrence exactly as it is when the reminder is marked sent.
    """
    query: Doc = {"_id": event["_id"], "rev": event["rev"], "status": EventStatus.SCHEDULED.value}
    fields: Doc = {}
    reminders = {offset: dict(r) for offset, r in event.get("reminders", {}).items()}
    for offset in plan.offsets:
        query[f"reminders.{offset}.sent_at"] = None
        query[f"reminders.{offset}.due_at"] = {"$lte": now}
        fields[f"reminders.{offset}.sent_at"] = now
        reminders[offset]["sent_at"] = now
    for offset in plan.skip:
        fields[f"reminders.{offset}.skipped"] = True
    fields["next_reminder_at"] = next_reminder(reminders)
    return query, {"$set": fields, "$inc": {"rev": 1}}


class ReminderScheduler:
    """Polls `collection` (the events service's occurrences) for due reminders; the
    conditional write that marks a reminder sent commits with its message."""

    def __init__(
        self,
        collection: AsyncCollection[Doc],
        uow: UnitOfWork,
        *,
        poll_interval: float = 5.0,
        batch_size: int = 200,
    ) -> None:
        self._collection = collection
        self._uow = uow
        self._batch_size = batch_size
        self._poller = Periodic("reminder scheduler", self.run_once, poll_interval, report="sent %d reminder(s)")

    async def run_once(self) -> int:
        """One poll: claim what is due now. Returns how many reminder messages it wrote."""
        due = await (
            self._collection.find(
                {"status": EventStatus.SCHEDULED.value, "next_reminder_at": {"$lte": datetime.now(UTC)}},
                projection={"_id": 1},
            )
            .sort("next_reminder_at", ASCENDING)
            .limit(self._batch_size)
            .to_list()
        )
        sent = 0
        for candidate in due:
            sent += await self._claim(candidate["_id"])
        return sent

    async def _claim(self, event_id: str) -> int:
        for _ in range(MAX_ATTEMPTS):
            event = await self._collection.find_one({"_id": event_id})
            if event is None or event["status"] != EventStatus.SCHEDULED.value:
                return 0
            now = datetime.now(UTC)
            plan = plan_reminders(event, now)
            if not plan.offsets and event.get("next_reminder_at") == next_reminder(event.get("reminders", {})):
                return 0  # another replica got there first
            # With nothing due, the write below only corrects a stale `next_reminder_at`.
            entries = [reminder_message(event, offset) for offset in plan.fire]
            query, update = reminder_write(event, plan, now)

            async def write(tx: Transaction, query: Doc = query, update: Doc = update) -> Doc | None:
                return await self._collection.find_one_and_update(
                    query, update, return_document=ReturnDocument.AFTER, session=tx.session
                )

            written = await self._uow.write_announcing(f"events/{event_id}", write, entries)
            if written is None:
                continue  # the occurrence changed meanwhile: look again
            for offset in plan.skip:
                log.info("reminder skipped as too late", extra={"fields": {"event_id": event_id, "offset": offset}})
            return len(entries)
        log.warning("reminders of %s left for the next poll: it kept changing", event_id)
        return 0

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
