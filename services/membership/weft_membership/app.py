"""The membership process: HTTP API and outbox relay on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

from weft_membership.api import ROUTERS
from weft_membership.api.deps import KnownPeople
from weft_membership.messages import document_messages
from weft_membership.settings import MembershipSettings
from weft_membership.storage import Storage
from weft_membership.usecases.context import Context
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: MembershipSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime("membership", settings or MembershipSettings())
    document_messages(runtime.broker, runtime.platform)
    store = Storage.on(runtime.db)
    runtime.on_storage_setup(lambda _db: store.create_indexes())
    app = runtime.create_app(title="Weft membership", routers=ROUTERS)
    app.state.ctx = Context(runtime.uow, store, runtime.erased_people)
    app.state.known_people = KnownPeople()
    return app
