"""The membership process: HTTP API, the consumer of export messages, the outbox relay
and the export deadline job, on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

from weft_membership.api import ROUTERS
from weft_membership.api.deps import KnownPeople
from weft_membership.handlers import exports as export_handlers
from weft_membership.jobs.export_deadlines import ExportDeadlineJob
from weft_membership.messages import document_messages
from weft_membership.settings import MembershipSettings
from weft_membership.storage import Storage
from weft_membership.storage.exports import Exports
from weft_membership.storage.personal_data import MembershipPersonalData
from weft_membership.usecases.context import Context
from weft_membership.usecases.exports import ExportsContext
from weft_shared.privacy.export_parts import answer_exports
from weft_shared.privacy.export_settings import ExportSettings
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: MembershipSettings | None = None) -> FastAPI:
    settings = settings or MembershipSettings()
    runtime = ServiceRuntime("membership", settings)
    document_messages(runtime.broker, runtime.platform)
    store = Storage.on(runtime.db)
    runtime.on_storage_setup(lambda _db: store.create_indexes())
    exports = Exports(runtime.db)
    runtime.on_storage_setup(lambda _db: exports.create_indexes())
    # Only messages about people (exports): the rest of the stream is membership's own news.
    dispatcher = runtime.consume(durable=settings.consumer_name, subject=f"{runtime.platform.subject_prefix}.person.>")
    # Membership answers for its own data like every service, and assembles the archive.
    export_store = answer_exports(runtime, dispatcher, MembershipPersonalData(runtime.db))
    exports_ctx = ExportsContext(runtime.uow, exports, export_store, ExportSettings())
    export_handlers.register(dispatcher, exports_ctx)
    runtime.add_job(ExportDeadlineJob(exports_ctx))
    app = runtime.create_app(title="Weft membership", routers=ROUTERS)
    app.state.ctx = Context(runtime.uow, store, runtime.erased_people)
    app.state.exports = exports_ctx
    app.state.known_people = KnownPeople()
    return app
