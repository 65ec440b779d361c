"""The digest job: every minute (`digest_poll_seconds`) each replica looks at the
people with unread notifications waiting for a daily or weekly digest, and queues
the digest of each whose period is due on their own clock (usecases/digests.py
makes each period's go once). The clock is a parameter, so tests can say "it is
Monday 08:00 in Lisbon" without waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from weft_notifications.domain.digest_periods import DIGEST_KINDS
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.digests import not_yet_done, send_digest
from weft_shared.periodic import Periodic
from weft_shared.service.clock import now

BATCH = 500  # people whose period is checked with one query


class DigestJob:
    def __init__(self, ctx: NotificationsContext, *, clock: Callable[[], datetime] = now) -> None:
        self._ctx = ctx
        self._clock = clock
        self._poller = Periodic(
            "digest job", self.run_once, ctx.settings.digest_poll_seconds, report="queued %d digest(s)"
        )

    async def run_once(self) -> int:
        """Queue every digest due now. Returns how many were queued."""
        at = self._clock()
        queued = 0
        for kind in DIGEST_KINDS:
            waiting = await self._ctx.storage.digests.waiting(f"digest_{kind}")
            for start in range(0, len(waiting), BATCH):
                for user_id in await not_yet_done(self._ctx, kind, at, waiting[start : start + BATCH]):
                    queued += await send_digest(self._ctx, user_id, kind, at)
        return queued

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
