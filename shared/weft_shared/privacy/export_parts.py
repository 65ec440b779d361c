"""Answering an export request: a service gathers what it holds about the person,
writes it to the export store as its part and announces where it is.

Runs in the handler's transaction (the shared consumer), so the gathered reads are
one snapshot and the announcement commits with the processed-message record. A
redelivery rewrites the same object (same name) and announces the same part, which
membership records once per (export, service).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import orjson

from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.privacy_export import ExportPartReady, ExportRequested
from weft_shared.messaging.consumer import Delivery, MessageDispatcher
from weft_shared.privacy.export_settings import ExportSettings
from weft_shared.privacy.export_store import ExportStore, part_name
from weft_shared.service.runtime import ServiceRuntime
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

# What a service holds about one person, by kind (`{"rsvps": [...], "check_ins": [...]}`).
Gather = Callable[[str], Awaitable[dict[str, Any]]]


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)  # ObjectId, Decimal128 and the like


def encode_part(service: str, request: ExportRequested, requested_at: datetime, data: dict[str, Any]) -> bytes:
    """Deterministic for the same data (no time of its own), so a redelivery writes the same bytes."""
    part = {
        "service": service,
        "export_id": request.export_id,
        "user_id": request.user_id,
        "requested_at": requested_at,
        "data": data,
    }
    # Stored datetimes are UTC without a zone (PyMongo's default): say so in the JSON.
    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
    return orjson.dumps(part, default=_json_default, option=options)


def answer_export_requests(
    dispatcher: MessageDispatcher, uow: UnitOfWork, store: ExportStore, *, service: str, gather: Gather
) -> None:
    async def handle(envelope: Envelope, request: ExportRequested, _delivery: Delivery) -> None:
        body = encode_part(service, request, envelope.time, await gather(request.user_id))
        stored = await store.put(part_name(request.export_id, service), body)

        async def announce(tx: Transaction) -> None:
            tx.announce(
                ExportPartReady(
                    export_id=request.export_id,
                    service=service,
                    object_name=stored.name,
                    sha256=stored.sha256,
                    size=stored.size,
                ),
                aggregate=f"exports/{request.export_id}",
                community_id=None,
            )

        await uow.run(announce)

    dispatcher.on(ExportRequested)(handle)


class PersonalData(Protocol):
    """A service's reader of one person's records (its `storage/personal_data.py`)."""

    async def create_indexes(self) -> None: ...

    async def gather(self, user_id: str) -> dict[str, Any]: ...


def answer_exports(runtime: ServiceRuntime, dispatcher: MessageDispatcher, personal_data: PersonalData) -> ExportStore:
    """Wire a service's part of every export: its indexes, the store, the handler."""
    store = ExportStore(runtime.broker, runtime.platform, ExportSettings())
    runtime.on_storage_setup(lambda _db: personal_data.create_indexes())
    answer_export_requests(dispatcher, runtime.uow, store, service=runtime.name, gather=personal_data.gather)
    return store
