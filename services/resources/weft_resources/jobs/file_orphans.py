"""The orphan sweep: every few minutes, delete GridFS contents that no version claimed
within an hour (an upload whose process died between writing the chunks and
committing the version). Safe with replicas: each record is taken in a transaction
that conflicts with the version's claim (storage/files.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.files import sweep_abandoned_uploads
from weft_shared.periodic import Periodic
from weft_shared.service.clock import now


class FileOrphanJob:
    def __init__(
        self, ctx: ResourcesContext, *, max_age_seconds: float, poll_interval: float, batch_size: int = 100
    ) -> None:
        self._ctx = ctx
        self._max_age = timedelta(seconds=max_age_seconds)
        self._batch_size = batch_size
        self._poller = Periodic(
            "file orphan sweep", self.run_once, poll_interval, report="deleted %d unclaimed upload(s)"
        )

    async def run_once(self, at: datetime | None = None) -> int:
        """One sweep; returns how many uploads' contents it deleted."""
        started_before = (at or now()) - self._max_age
        return await sweep_abandoned_uploads(self._ctx, started_before, limit=self._batch_size)

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
