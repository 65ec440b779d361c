"""The events process: HTTP API, the membership-message consumer, the outbox relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

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
from weft_shared.http import backing_service_checks, create_service_app
from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.messaging.consumer import MessageDispatcher, ProcessedMessages
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.observability import configure_logging
from weft_shared.storage import MongoLifecycle, UnitOfWork

SOURCE = "/weft/events"


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    settings = settings or EventsSettings()
    platform = settings.platform
    configure_logging("events", level=platform.log_level, json_logs=platform.log_json)
    mongo = MongoLifecycle(platform.mongodb_url, settings.database, app_name="weft-events")
    broker = create_broker(platform, client_name="weft-events")
    document_messages(broker, platform)
    outbox = Outbox(mongo.db)
    relay = OutboxRelay(broker, platform, outbox, sweep_interval=settings.outbox_sweep_interval_seconds)
    uow = UnitOfWork(mongo.client, outbox, MessageFactory(platform, SOURCE), relay)
    repo = Repository(mongo.db, uow)
    ctx = Context(repo, Facts(mongo.db), settings)
    feeds = CalendarFeeds(mongo.db.calendar_feeds)
    reminders = ReminderScheduler(repo.events, uow, poll_interval=settings.reminder_poll_seconds)
    processed = ProcessedMessages(mongo.db.processed_messages)
    dispatcher = MessageDispatcher(broker, platform, processed, uow)

    async def setup_storage(db: AsyncDatabase[dict[str, Any]]) -> None:
        await create_indexes(db)
        await outbox.create_indexes()
        await processed.create_indexes()
        await feeds.create_indexes()

    membership_facts.register(dispatcher, ctx)
    dispatcher.subscribe(durable=settings.consumer_name, subject=f"{platform.subject_prefix}.>")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await mongo.start(setup_storage)
        # Streams first: the consumer's stream must exist before the broker starts consuming.
        await broker.connect()
        await ensure_streams(broker, platform)
        await broker.start()
        relay.start()
        reminders.start()
        try:
            yield
        finally:
            await reminders.stop()
            await relay.stop()
            await broker.stop()
            await mongo.close()

    app = create_service_app(
        title="Weft events",
        platform=platform,
        lifespan=lifespan,
        readiness_checks=backing_service_checks(mongo, broker),
    )
    app.state.ctx = ctx
    app.state.broker = broker
    app.state.calendar_source = CalendarQueries(ctx, feeds)
    app.include_router(router)
    app.include_router(api_calendar.router)
    app.include_router(api_attendance.router)
    return app
