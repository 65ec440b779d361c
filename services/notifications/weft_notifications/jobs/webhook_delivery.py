"""The webhook delivery job: every poll, each replica takes the endpoints that are
due and nobody holds (a lease on the endpoint's queue document, so two replicas
never send to one endpoint at once), and sends each one's deliveries in its own
task. One endpoint at a time per task, at most `webhook_concurrency` tasks: a slow
or dead endpoint holds one task until its timeout, never the others, and never
the consumer (which only records deliveries) or the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket

from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.webhook_delivery import Sender, drain, schedule_recorded
from weft_notifications.usecases.webhook_http import new_http_client
from weft_shared.periodic import Periodic
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id

log = logging.getLogger("weft.webhooks")


class WebhookDeliveryJob:
    def __init__(self, ctx: NotificationsContext) -> None:
        self._ctx = ctx
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{new_id()}"
        self._sender: Sender | None = None
        self._working: dict[str, asyncio.Task[int]] = {}
        self._poller = Periodic(
            "webhook delivery", self.run_once, ctx.settings.webhook_poll_interval_seconds, report="took %d endpoint(s)"
        )

    async def run_once(self) -> int:
        """One poll: start sending to each due endpoint this replica can take. Returns how many it took."""
        sender = self._sender
        if sender is None:
            return 0
        await schedule_recorded(self._ctx)
        free = self._ctx.settings.webhook_concurrency - len(self._working)
        if free <= 0:
            return 0
        store = self._ctx.storage.webhooks
        candidates = [
            w for w in await store.due_queues(now(), limit=free + len(self._working)) if w not in self._working
        ]
        for webhook_id in candidates[:free]:
            # Each in its own task, the claim included: claims go out side by side, not one by one.
            task = asyncio.create_task(self._take(sender, webhook_id), name=f"webhook {webhook_id}")
            self._working[webhook_id] = task
            task.add_done_callback(functools.partial(self._finished, webhook_id))
        return 0  # sends are logged per endpoint; a poll that only took work says nothing

    async def _take(self, sender: Sender, webhook_id: str) -> int:
        at = now()
        if not await self._ctx.storage.webhooks.claim(webhook_id, self._holder, at, at + sender.lease):
            return 0  # another replica has it
        return await drain(sender, webhook_id)

    def _finished(self, webhook_id: str, task: asyncio.Task[int]) -> None:
        self._working.pop(webhook_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.warning(
                "webhook %s: sending failed, its lease lapses and it is tried again: %s", webhook_id, task.exception()
            )

    def start(self) -> None:
        self._sender = Sender(self._ctx, new_http_client(self._ctx.settings.webhook_timeout_seconds), self._holder)
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
        for task in list(self._working.values()):
            task.cancel()
        for task in list(self._working.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._sender is not None:
            await self._sender.client.close()
            self._sender = None
