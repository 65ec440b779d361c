"""The reminder job: every few seconds, each replica looks for occurrences with a
reminder due and sends them through the use case, which makes each go out once
(usecases/reminders.py). No in-memory timers: the schedule is in the documents,
so restarts and replicas need no coordination."""

from __future__ import annotations

from weft_events.usecases.context import EventsContext
from weft_events.usecases.reminders import send_due_reminders
from weft_shared.periodic import Periodic
from weft_shared.service.actor import System
from weft_shared.service.clock import now

REMINDER_JOB = System(reason="reminder job")


class ReminderJob:
    def __init__(self, ctx: EventsContext, *, poll_interval: float = 5.0, batch_size: int = 200) -> None:
        self._ctx = ctx
        self._batch_size = batch_size
        self._poller = Periodic("reminder job", self.run_once, poll_interval, report="sent %d reminder(s)")

    async def run_once(self) -> int:
        """One poll: send what is due now. Returns how many reminder messages it wrote."""
        due = await self._ctx.storage.events.due_for_reminders(now(), limit=self._batch_size)
        sent = 0
        for event_id in due:
            sent += await send_due_reminders(self._ctx, REMINDER_JOB, event_id)
        return sent

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
