"""The events process: HTTP API, the membership-message consumer, the outbox relay
and the reminder job, on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

import weft_shared.contracts.membership  # noqa: F401  (registers the message types we consume)
from weft_events import api_attendance, api_calendar
from weft_events.api import router
from weft_events.facts import Facts
from weft_events.feeds import CalendarFeeds
from weft_events.messages import document_messages
from weft_events.reminders import ReminderScheduler
from weft_events.repository import Repository, create_indexes
from weft_events.settings import EventsSettings
from weft_events.usecases import membership_facts
from weft_events.usecases.calendar import CalendarQueries
from weft_events.usecases.context import Context
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    runtime = ServiceRuntime("events", settings)
    document_messages(runtime.broker, runtime.platform)
    repo = Repository(runtime.db, runtime.uow)
    ctx = Context(repo, Facts(runtime.db), settings)
    feeds = CalendarFeeds(runtime.db.calendar_feeds)
    runtime.on_storage_setup(create_indexes)
    runtime.on_storage_setup(lambda _db: feeds.create_indexes())
    membership_facts.register(runtime.consume(durable=settings.consumer_name), ctx)
    runtime.add_job(ReminderScheduler(repo.events, runtime.uow, poll_interval=settings.reminder_poll_seconds))
    app = runtime.create_app(title="Weft events", routers=[router, api_calendar.router, api_attendance.router])
    app.state.ctx = ctx
    app.state.calendar_source = CalendarQueries(ctx, feeds)
    return app
