"""The export deadline job: requests still missing parts past their deadline are
assembled from what arrived and marked incomplete (the person is told). Bounded: a
batch per poll; every replica may run it (finishing is guarded on `pending`)."""

from __future__ import annotations

from weft_membership.usecases.exports import ExportsContext, finish_overdue
from weft_shared.periodic import Periodic
from weft_shared.service.clock import now


class ExportDeadlineJob:
    def __init__(self, ctx: ExportsContext, *, batch_size: int = 50) -> None:
        self._ctx = ctx
        self._batch_size = batch_size
        self._poller = Periodic(
            "export deadlines",
            self.run_once,
            ctx.settings.deadline_poll_seconds,
            report="finished %d overdue export(s)",
        )

    async def run_once(self) -> int:
        overdue = await self._ctx.exports.past_deadline(now(), self._batch_size)
        return sum([await finish_overdue(self._ctx, export_id) for export_id in overdue])

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
