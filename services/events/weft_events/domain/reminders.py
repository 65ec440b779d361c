"""Reminders before an occurrence starts: when they are due, which to send and
which to skip, and their message ids. No I/O.

Each occurrence stores its reminders (`reminders.<offset minutes>.due_at/sent_at`)
and `next_reminder_at`, the earliest unsent one, which the reminder job polls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from weft_events.domain.events import Doc


def reminder_schedule(starts_at: datetime, offsets_minutes: list[int], now: datetime) -> dict[str, Doc]:
    """Reminders still ahead of `now`; keys are the offsets (digits only: valid field names)."""
    schedule: dict[str, Doc] = {}
    for offset in offsets_minutes:
        due = starts_at - timedelta(minutes=offset)
        if due > now:
            schedule[str(offset)] = {"due_at": due, "sent_at": None}
    return schedule


def next_reminder(reminders: dict[str, Doc]) -> datetime | None:
    pending = [r["due_at"] for r in reminders.values() if r.get("sent_at") is None]
    return min(pending) if pending else None


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    fire: tuple[str, ...]  # offsets whose message goes out now
    skip: tuple[str, ...]  # offsets marked done without a message

    @property
    def offsets(self) -> tuple[str, ...]:
        return self.fire + self.skip


def plan_reminders(event: Doc, now: datetime) -> ReminderPlan:
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


def reminders_after(event: Doc, plan: ReminderPlan, now: datetime) -> dict[str, Doc]:
    """The occurrence's reminders once `plan` is carried out: planned ones sent, skipped ones marked."""
    reminders = {offset: dict(r) for offset, r in event.get("reminders", {}).items()}
    for offset in plan.offsets:
        reminders[offset]["sent_at"] = now
    for offset in plan.skip:
        reminders[offset]["skipped"] = True
    return reminders


def reminder_message_id(event_id: str, offset: str, due_at: datetime) -> str:
    """The same id for the same reminder, wherever and however often it is built: JetStream
    dedupes it by `Nats-Msg-Id` and consumers by envelope id, a second guard behind the
    transaction that marks it sent. `due_at` is in it because a rescheduled reminder is a
    new one (it is always due after the old one fired, so the id is never reused)."""
    millis = int(due_at.timestamp() * 1000)
    return f"reminder-{event_id}-{offset}-{millis}"
