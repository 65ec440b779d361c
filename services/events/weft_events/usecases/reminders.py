"""Sending an occurrence's due reminders (`reminder.due`): once per occurrence and
offset, across restarts and replicas.

One transaction reads the occurrence, marks the planned reminders sent and
announces their messages. Two replicas claiming the same reminder both write the
occurrence, so one of them is re-run, finds it sent, and sends nothing.
"""

from __future__ import annotations

import logging

from weft_events.domain.events import Doc, is_scheduled
from weft_events.domain.reminders import next_reminder, plan_reminders, reminder_message_id, reminders_after
from weft_events.messages import event_snapshot
from weft_events.usecases.context import EventsContext
from weft_shared.contracts.events import ReminderDue
from weft_shared.service.actor import System
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction

log = logging.getLogger("weft.events.reminders")


async def send_due_reminders(ctx: EventsContext, actor: System, event_id: str) -> int:
    """Announce the occurrence's due reminders (the too-late ones are skipped, see
    domain/reminders.py). Returns how many messages it wrote."""

    async def work(tx: Transaction) -> tuple[int, tuple[str, ...]]:
        event = await ctx.storage.events.get(event_id)
        if event is None or not is_scheduled(event):
            return 0, ()
        moment = now()
        plan = plan_reminders(event, moment)
        reminders = reminders_after(event, plan, moment)
        upcoming = next_reminder(reminders)
        if not plan.offsets and event.get("next_reminder_at") == upcoming:
            return 0, ()  # sent already (another replica), or not due yet
        # With nothing due, the write only corrects a stale `next_reminder_at`.
        written = await ctx.storage.events.update(
            event_id, fields={"reminders": reminders, "next_reminder_at": upcoming}
        )
        if plan.fire:
            confirmed = await ctx.storage.rsvps.confirmed_user_ids(event_id)
            for offset in plan.fire:
                _announce_reminder(tx, written, offset, confirmed)
        return len(plan.fire), plan.skip

    sent, skipped = await ctx.uow.run(work)
    for offset in skipped:
        log.info(
            "reminder skipped as too late",
            extra={"fields": {"event_id": event_id, "offset": offset, "by": actor.reason}},
        )
    return sent


def _announce_reminder(tx: Transaction, event: Doc, offset: str, confirmed: list[str]) -> None:
    payload = ReminderDue(
        event=event_snapshot(event),  # never carries the joining link
        offset_minutes=int(offset),
        confirmed_user_ids=confirmed,
    )
    tx.announce(
        payload,
        aggregate=f"events/{event['_id']}",
        community_id=event["community_id"],
        message_id=reminder_message_id(str(event["_id"]), offset, event["reminders"][offset]["due_at"]),
    )
