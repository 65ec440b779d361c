"""The notifications process: HTTP API, the consumer of every message on the stream,
the outbox relay and the background jobs, on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

import weft_shared.contracts.events
import weft_shared.contracts.membership
import weft_shared.contracts.resources  # noqa: F401  (registers the message types we consume)
from weft_notifications.api import ROUTERS
from weft_notifications.handlers import erasure as erasure_handlers
from weft_notifications.handlers import events, membership
from weft_notifications.handlers import exports as exports_handlers
from weft_notifications.handlers import people as people_handlers
from weft_notifications.handlers import resources as resources_handlers
from weft_notifications.handlers import webhooks as webhook_handlers
from weft_notifications.jobs.digests import DigestJob
from weft_notifications.jobs.email_sender import EmailSender
from weft_notifications.jobs.live_inbox import LiveInbox
from weft_notifications.jobs.webhook_delivery import WebhookDeliveryJob
from weft_notifications.messages import document_messages
from weft_notifications.metrics import NotificationMetrics
from weft_notifications.settings import NotificationsSettings
from weft_notifications.storage import NotificationsStorage
from weft_notifications.storage.live import CounterChanges
from weft_notifications.storage.personal_data import NotificationsPersonalData
from weft_notifications.storage.retention import ensure_retention
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.privacy.export_parts import answer_exports
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime("notifications", settings)
    document_messages(runtime.broker, runtime.platform)
    storage = NotificationsStorage(runtime.db)
    runtime.on_storage_setup(lambda _db: storage.create_indexes())
    runtime.on_storage_setup(
        lambda db: ensure_retention(
            db,
            inbox_days=settings.inbox_retention_days,
            webhook_delivery_days=settings.webhook_delivery_retention_days,
            email_days=settings.email_retention_days,
        )
    )
    ctx = NotificationsContext(
        runtime.uow, storage, settings, NotificationMetrics(runtime.metrics, storage.email_outbox)
    )
    dispatcher = runtime.consume(durable=settings.consumer_name)
    membership.register(dispatcher, ctx)
    events.register(dispatcher, ctx)
    people_handlers.register(dispatcher, ctx)
    resources_handlers.register(dispatcher, ctx)
    exports_handlers.register(dispatcher, ctx)
    answer_exports(runtime, dispatcher, NotificationsPersonalData(runtime.db))
    runtime.add_job(EmailSender(ctx))
    runtime.add_job(DigestJob(ctx))
    webhook_handlers.register(dispatcher, ctx)
    erasure_handlers.register(dispatcher, ctx)
    runtime.add_job(WebhookDeliveryJob(ctx))
    app = runtime.create_app(title="Weft notifications", routers=ROUTERS)
    app.state.ctx = ctx
    live_inbox = LiveInbox(
        CounterChanges(runtime.db),
        watch_changes=settings.stream_watch_changes,
        poll_seconds=settings.stream_poll_seconds,
    )
    runtime.add_job(live_inbox)
    app.state.live_inbox = live_inbox
    return app
