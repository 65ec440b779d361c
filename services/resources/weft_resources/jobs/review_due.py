"""The review-due job: every few seconds, each replica looks for items whose review-by
date has come and claims each through the use case, which flags it and announces
`resource.review_due` once per date (usecases/curation.py). No in-memory timers: the
schedule is in the documents (`review_next`), so restarts and replicas need no
coordination beyond the claim."""

from __future__ import annotations

import logging

from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.curation import announce_review_due
from weft_shared.periodic import Periodic
from weft_shared.service.actor import System
from weft_shared.service.clock import now

REVIEW_JOB = System(reason="review-due job")

log = logging.getLogger("weft.resources.review_due")


class ReviewDueJob:
    def __init__(self, ctx: ResourcesContext, *, poll_interval: float, batch_size: int = 200) -> None:
        self._ctx = ctx
        self._batch_size = batch_size
        self._poller = Periodic("review-due job", self.run_once, poll_interval, report="flagged %d item(s) for review")

    async def run_once(self) -> int:
        """One poll: claim what is due now. Returns how many it announced."""
        due = await self._ctx.storage.curation.due_for_review(now(), limit=self._batch_size)
        announced = 0
        for resource_id, review_by in due:
            try:
                announced += await announce_review_due(self._ctx, REVIEW_JOB, resource_id, review_by)
            except Exception as exc:
                # One item that cannot be claimed (its next poll retries it) must not hold up the rest.
                log.warning(
                    "review-due claim failed, will retry",
                    extra={"fields": {"resource_id": resource_id, "error": str(exc)}},
                )
        return announced

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
