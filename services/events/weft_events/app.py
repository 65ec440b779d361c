"""The events process: HTTP API, the consumer of membership messages, the outbox
relay and the reminder job, on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

import weft_shared.contracts.membership  # noqa: F401  (registers the message types we consume)
from weft_events.api import ROUTERS
from weft_events.handlers import erasure, membership
from weft_events.jobs.reminders import ReminderJob
from weft_events.messages import document_messages
from weft_events.settings import EventsSettings
from weft_events.storage import EventsStorage
from weft_events.storage.personal_data import EventsPersonalData
from weft_events.usecases.context import EventsContext
from weft_shared.privacy.export_parts import answer_exports
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    runtime = ServiceRuntime("events", settings)
    document_messages(runtime.broker, runtime.platform)
    storage = EventsStorage(runtime.db)
    runtime.on_storage_setup(lambda _db: storage.create_indexes())
    ctx = EventsContext(runtime.uow, storage, settings)
    dispatcher = runtime.consume(durable=settings.consumer_name)
    membership.register(dispatcher, ctx)
    erasure.register(dispatcher, ctx)
    answer_exports(runtime, dispatcher, EventsPersonalData(runtime.db))
    runtime.add_job(ReminderJob(ctx, poll_interval=settings.reminder_poll_seconds))
    app = runtime.create_app(title="Weft events", routers=ROUTERS)
    app.state.ctx = ctx
    return app
