"""The membership process: HTTP API and outbox relay on the shared service runtime."""

from __future__ import annotations

from fastapi import FastAPI

from weft_membership.api import router
from weft_membership.messages import document_messages
from weft_membership.repository import Repository, create_indexes
from weft_membership.settings import MembershipSettings
from weft_membership.usecases.context import Context
from weft_shared.service.runtime import ServiceRuntime


def create_app(settings: MembershipSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime("membership", settings or MembershipSettings())
    document_messages(runtime.broker, runtime.platform)
    runtime.on_storage_setup(create_indexes)
    app = runtime.create_app(title="Weft membership", routers=[router])
    app.state.ctx = Context(Repository(runtime.db, runtime.uow))
    app.state.seen_users = {}
    return app
