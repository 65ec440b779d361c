"""The membership process: HTTP API + outbox relay, one lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from weft_membership.api import router
from weft_membership.messages import document_messages
from weft_membership.repository import Repository, create_indexes
from weft_membership.settings import MembershipSettings
from weft_membership.usecases.context import Context
from weft_shared.http import backing_service_checks, create_service_app
from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.observability import configure_logging
from weft_shared.storage import MongoLifecycle, UnitOfWork

SOURCE = "/weft/membership"


def create_app(settings: MembershipSettings | None = None) -> FastAPI:
    settings = settings or MembershipSettings()
    platform = settings.platform
    configure_logging("membership", level=platform.log_level, json_logs=platform.log_json)
    mongo = MongoLifecycle(platform.mongodb_url, settings.database, app_name="weft-membership")
    broker = create_broker(platform, client_name="weft-membership")
    document_messages(broker, platform)
    outbox = Outbox(mongo.db)
    relay = OutboxRelay(
        broker,
        platform,
        outbox,
        sweep_interval=settings.outbox_sweep_interval_seconds,
        crash_before_publish=settings.crash_before_publish,
    )
    uow = UnitOfWork(mongo.client, outbox, MessageFactory(platform, SOURCE), relay)
    repo = Repository(mongo.db, uow)

    async def setup_storage(db: AsyncDatabase[dict[str, Any]]) -> None:
        await create_indexes(db)
        await outbox.create_indexes()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await mongo.start(setup_storage)
        await broker.start()
        await ensure_streams(broker, platform)
        relay.start()  # publishes whatever a previous run left in the outbox
        try:
            yield
        finally:
            await relay.stop()
            await broker.stop()
            await mongo.close()

    app = create_service_app(
        title="Weft membership",
        platform=platform,
        lifespan=lifespan,
        readiness_checks=backing_service_checks(mongo, broker),
    )
    app.state.ctx = Context(repo)
    app.state.seen_users = {}
    app.state.broker = broker
    app.include_router(router)
    return app
