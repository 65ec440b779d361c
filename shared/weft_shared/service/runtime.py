"""The service runtime: what every database-and-bus service process is made of,
started and stopped in one order.

Start: logging → database (transactions required, indexes) → NATS and the
streams → consumers → outbox relay (publishes what a previous run left) →
background jobs. Stop: the consumer and the jobs finish what they hold, then the
relay flushes the outbox one last time, then NATS and the database close. A service's `app.py` builds one runtime,
adds its own indexes, handlers and jobs, and hands it its routers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.http import backing_service_checks, create_service_app
from weft_shared.messaging.broker import DLQ_SUFFIX, create_broker, ensure_streams
from weft_shared.messaging.consumer import MessageDispatcher, ProcessedMessages
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.messaging.subscription import PullConsumer
from weft_shared.metrics import ProcessMetrics, install_metrics
from weft_shared.metrics.messaging import ConsumerMetrics, DeadLetterMetrics, OutboxMetrics
from weft_shared.observability import configure_logging
from weft_shared.service import idempotency
from weft_shared.service.allowed_methods import AllowedMethods
from weft_shared.service.docs_assets import serve_docs_offline
from weft_shared.service.server_spans import ServerSpans
from weft_shared.settings import DataServiceSettings
from weft_shared.storage.client import MongoLifecycle
from weft_shared.storage.erasures import ErasedPeople
from weft_shared.storage.idempotency import IdempotencyKeys
from weft_shared.storage.unit_of_work import UnitOfWork
from weft_shared.tracing import flush as flush_spans
from weft_shared.tracing import tracer_for

log = logging.getLogger("weft.shutdown")

Database = AsyncDatabase[dict[str, Any]]
StorageSetup = Callable[[Database], Awaitable[None]]


class BackgroundJob(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


class ServiceRuntime:
    def __init__(self, name: str, settings: DataServiceSettings) -> None:
        platform = settings.platform
        configure_logging(name, level=platform.log_level, json_logs=platform.log_json)
        self.name = name
        self.settings = settings
        self.platform = platform
        self.tracer = tracer_for(name)
        self.mongo = MongoLifecycle(platform.mongodb_url, settings.database, app_name=f"weft-{name}")
        self.db: Database = self.mongo.db
        self.broker = create_broker(platform, client_name=f"weft-{name}")
        self.outbox = Outbox(self.db)
        self.relay = OutboxRelay(
            self.broker,
            platform,
            self.outbox,
            sweep_interval=settings.outbox_sweep_interval_seconds,
            crash_before_publish=settings.crash_before_publish,
            tracer=self.tracer,
        )
        self.uow = UnitOfWork(
            self.mongo.client, self.outbox, MessageFactory(platform, f"/weft/{name}"), self.relay, tracer=self.tracer
        )
        self.idempotency_keys = IdempotencyKeys(self.db, lease=timedelta(seconds=settings.idempotency_lease_seconds))
        # Erasure tombstones (see storage/erasures.py): every service keeps its own.
        self.erased_people = ErasedPeople(self.db)
        self._storage_setups: list[StorageSetup] = [
            lambda _db: self.idempotency_keys.create_indexes(),
            lambda _db: self.erased_people.create_indexes(),
        ]
        self._jobs: list[BackgroundJob] = []
        self.dispatcher: MessageDispatcher | None = None
        self.consumer: PullConsumer | None = None
        self.metrics = ProcessMetrics(name)
        OutboxMetrics(self.metrics, self.outbox)
        DeadLetterMetrics(self.metrics, self.broker, stream=platform.stream_name + DLQ_SUFFIX)

    def on_storage_setup(self, setup: StorageSetup) -> None:
        """Run `setup` (index creation, idempotent) on every start, before anything else uses the database."""
        self._storage_setups.append(setup)

    def consume(self, *, durable: str, subject: str | None = None) -> MessageDispatcher:
        """This service's one durable consumer of the stream; register handlers on it.
        `subject`: a filter, for a service that handles only a corner of the stream."""
        processed = ProcessedMessages(self.db.processed_messages)
        self.on_storage_setup(lambda _db: processed.create_indexes())
        self.dispatcher = MessageDispatcher(self.broker, self.platform, processed, self.uow, tracer=self.tracer)
        self.dispatcher.drop_when(self.erased_people.is_stale)
        self.consumer = self.dispatcher.subscribe(
            durable=durable, subject=subject, from_new=self.settings.consumer_start == "new"
        )
        if self.settings.handler_delay_seconds:  # test hook (dev only): a message still being handled
            delay = self.settings.handler_delay_seconds

            async def slow_down(_envelope: Any, _payload: Any, _delivery: Any) -> None:
                await asyncio.sleep(delay)

            self.dispatcher.on_every(slow_down)
        consumer_metrics = ConsumerMetrics(self.metrics, self.broker, stream=self.platform.stream_name, durable=durable)
        self.dispatcher.on_settled = consumer_metrics.settled
        return self.dispatcher

    def add_job(self, job: BackgroundJob) -> None:
        self._jobs.append(job)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.mongo.require_transactions()
        await self.outbox.create_indexes()
        for setup in self._storage_setups:
            await setup(self.db)
        # Streams before consuming: the consumer's stream must exist when it starts.
        await self.broker.connect()
        await ensure_streams(self.broker, self.platform)
        await self.broker.start()
        if self.consumer is not None:
            await self.consumer.start()
        self.relay.start()
        for job in self._jobs:
            job.start()
        try:
            yield
        finally:
            await self._stop()

    async def _stop(self) -> None:
        """Producers first (the consumer finishes the messages in hand, jobs their round),
        then the relay's last flush of what they wrote, then the connections."""
        if self.consumer is not None:
            await self.consumer.stop()
            log.info(
                "shutdown: consumer %r stopped (%d message(s) handled)", self.consumer.durable, self.consumer.handled
            )
        for job in reversed(self._jobs):
            await job.stop()
        flushed = await self.relay.stop()
        log.info("shutdown: outbox relay stopped after a last flush (%d message(s) published)", flushed)
        await self.broker.stop()
        await self.mongo.close()
        log.info("shutdown: NATS and MongoDB closed")
        flush_spans()

    def create_app(self, *, title: str, routers: Sequence[APIRouter]) -> FastAPI:
        app = create_service_app(
            title=title,
            platform=self.platform,
            lifespan=self.lifespan,
            readiness_checks=backing_service_checks(self.mongo, self.broker),
        )
        for router in routers:
            app.include_router(router)
        serve_docs_offline(app)
        app.state.erased_people = self.erased_people  # the auth dependency refuses erased people's old tokens
        idempotency.install(app, self.idempotency_keys, app.state.token_verifier)
        app.add_middleware(AllowedMethods, document=app.openapi)
        install_metrics(app, self.metrics, token=self.platform.metrics_token)
        app.add_middleware(ServerSpans, tracer=self.tracer)  # outermost: a 405 or a 500 is in the span
        return app
