"""The resources process: HTTP API, the consumer of membership messages, the outbox
relay and the background jobs, on the shared service runtime."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import FastAPI

import weft_shared.contracts.membership  # noqa: F401  (registers the message types we consume)
from weft_resources.api import ROUTERS
from weft_resources.handlers import erasure, membership
from weft_resources.jobs.file_orphans import FileOrphanJob
from weft_resources.jobs.review_due import ReviewDueJob
from weft_resources.jobs.search_indexer import SearchIndexer
from weft_resources.messages import document_messages
from weft_resources.search.engine import SearchEngine
from weft_resources.search.index import LocalIndex
from weft_resources.settings import ResourcesSettings
from weft_resources.storage import ResourcesStorage
from weft_resources.storage.personal_data import ResourcesPersonalData
from weft_resources.usecases.context import ResourcesContext
from weft_shared.privacy.export_parts import answer_exports
from weft_shared.service.runtime import ServiceRuntime


def search_index_folder(settings: ResourcesSettings) -> Path:
    return settings.search_index_dir or Path(tempfile.gettempdir(), f"weft-resources-search-{settings.http_port}")


def create_app(settings: ResourcesSettings | None = None) -> FastAPI:
    settings = settings or ResourcesSettings()
    settings.platform.sealing_key()  # refuse to start without the key, not at the first reply
    runtime = ServiceRuntime("resources", settings)
    document_messages(runtime.broker, runtime.platform)
    storage = ResourcesStorage(runtime.db)
    runtime.on_storage_setup(lambda _db: storage.create_indexes())
    ctx = ResourcesContext(runtime.uow, storage, settings)
    dispatcher = runtime.consume(durable=settings.consumer_name)
    membership.register(dispatcher, ctx)
    erasure.register(dispatcher, ctx)
    answer_exports(runtime, dispatcher, ResourcesPersonalData(runtime.db))
    runtime.add_job(
        FileOrphanJob(
            ctx, max_age_seconds=settings.file_orphan_age_seconds, poll_interval=settings.file_orphan_poll_seconds
        )
    )
    search_index = LocalIndex(search_index_folder(settings))
    runtime.add_job(
        SearchIndexer(
            storage.search_feed,
            search_index,
            poll_interval=settings.search_poll_seconds,
            margin_seconds=settings.search_margin_seconds,
            window_seconds=settings.search_window_seconds,
            sweep_interval=settings.search_sweep_seconds,
        )
    )
    runtime.add_job(ReviewDueJob(ctx, poll_interval=settings.review_poll_seconds))
    app = runtime.create_app(title="Weft resources", routers=ROUTERS)
    app.state.ctx = ctx
    app.state.search_engine = SearchEngine(search_index)
    return app
