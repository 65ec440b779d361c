"""Personal-data exports: asking for one, listing them, downloading the archive, and
assembling it once every service has written its part (or the deadline has passed).

Membership orchestrates because it owns the person; every service (membership too)
answers `export_requested` for its own data (weft_shared.privacy.export_parts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo.errors import DuplicateKeyError

from weft_membership.domain.export_archive import Part, build_archive
from weft_membership.schemas import ExportRequest
from weft_membership.storage.documents import Doc
from weft_membership.storage.exports import PENDING, Exports
from weft_shared.contracts.envelope import new_message_id
from weft_shared.contracts.privacy_export import ExportIncomplete, ExportPartReady, ExportReady, ExportRequested
from weft_shared.errors import Conflict, NotFound, Problem
from weft_shared.privacy.export_settings import ExportSettings
from weft_shared.privacy.export_store import ExportStore, archive_name, part_name
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

# A person's list shows their latest requests (a handful a year; old ones have expired).
LIST_LIMIT = 50

log = logging.getLogger("weft.membership.exports")


@dataclass(frozen=True, slots=True)
class ExportsContext:
    uow: UnitOfWork
    exports: Exports
    store: ExportStore
    settings: ExportSettings


async def forget_exports_of(ctx: ExportsContext, user_id: str, export_ids: list[str]) -> None:
    """After an erasure: remove their exports' parts and archives from the store now, rather than
    when the bucket's TTL comes (the records went with the erasure). Best effort: what cannot be
    removed now still expires with the bucket."""
    for export_id in export_ids:
        for name in [archive_name(export_id), *(part_name(export_id, s) for s in ctx.settings.services)]:
            try:
                await ctx.store.delete(name)
            except Exception as exc:
                log.warning("could not remove export object %s yet (%s); it expires with the bucket", name, exc)
                return


def archive_path(export_id: str) -> str:
    return f"/v1/me/export/{export_id}/archive"


def export_view(doc: Doc) -> ExportRequest:
    expired = doc.get("expires_at") is not None and doc["expires_at"] <= now()
    status = "expired" if expired else doc["status"]
    has_archive = doc.get("archive") is not None and not expired
    return ExportRequest(
        id=doc["_id"],
        status=status,
        requested_at=doc["requested_at"],
        finished_at=doc.get("finished_at"),
        expires_at=doc.get("expires_at"),
        services_expected=doc["expected"],
        parts_received=sorted(doc.get("parts", {})),
        missing=doc.get("missing", []),
        archive_url=archive_path(doc["_id"]) if has_archive else None,
    )


async def request_export(ctx: ExportsContext, person: Person) -> tuple[ExportRequest, bool]:
    """Start an export, or return the one already pending (False: nothing new started)."""

    async def work(tx: Transaction) -> tuple[Doc, bool]:
        pending = await ctx.exports.pending_of(person.id)
        if pending is not None:
            return pending, False
        at = now()
        latest = await ctx.exports.of_person(person.id, 1)
        if latest and at - _aware(latest[0]["requested_at"]) < timedelta(minutes=ctx.settings.min_interval_minutes):
            return latest[0], False  # asked again soon after: that one (each export costs every service)
        doc: Doc = {
            "_id": new_message_id(),
            "user_id": person.id,
            "status": PENDING,
            "requested_at": at,
            "deadline_at": at + timedelta(minutes=ctx.settings.deadline_minutes),
            "expected": list(ctx.settings.services),
            "parts": {},
        }
        await ctx.exports.insert(doc)
        tx.announce(
            ExportRequested(export_id=doc["_id"], user_id=person.id),
            aggregate=Exports.aggregate(doc["_id"]),
            community_id=None,
        )
        return doc, True

    try:
        doc, created = await ctx.uow.run(work)
    except DuplicateKeyError:  # a concurrent request of the same person committed first
        doc, created = await ctx.uow.run(work)
    return export_view(doc), created


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def list_exports(ctx: ExportsContext, person: Person) -> list[ExportRequest]:
    return [export_view(d) for d in await ctx.exports.of_person(person.id, LIST_LIMIT)]


async def archive(ctx: ExportsContext, person: Person, export_id: str) -> tuple[bytes, str]:
    """The archive's bytes and file name; someone else's export is the same 404 as none."""
    doc = await ctx.exports.get(export_id)
    if doc is None or doc["user_id"] != person.id:
        raise NotFound("no such export")
    view = export_view(doc)
    if view.status == PENDING:
        raise Conflict("this export is still being assembled; you will be told when it is ready")
    data = await ctx.store.get(archive_name(export_id)) if view.status != "expired" else None
    if data is None:
        raise Problem("this export's archive has expired; ask for a new export", status=410)
    return data, f"weft-personal-data-{export_id}.zip"


async def part_ready(ctx: ExportsContext, message: ExportPartReady) -> None:
    """Record a service's part (once per service: a redelivery sets the same entry);
    when the last expected one arrives, assemble the archive. In the handler's
    transaction: two parts arriving at once conflict on the export and one retries."""
    doc = await ctx.exports.get(message.export_id)
    if doc is None or doc["status"] != PENDING or message.service not in doc["expected"]:
        return  # unknown, already finished, or a service this export does not wait for
    part = {"object_name": message.object_name, "sha256": message.sha256, "size": message.size, "at": now()}
    updated = await ctx.exports.record_part(message.export_id, message.service, part)
    if updated is not None and set(updated["expected"]) <= set(updated.get("parts", {})):
        await _assemble(ctx, updated)


async def finish_overdue(ctx: ExportsContext, export_id: str) -> bool:
    """Past its deadline: assemble what arrived and mark it incomplete."""

    async def work(_tx: Transaction) -> bool:
        doc = await ctx.exports.get(export_id)
        if doc is None or doc["status"] != PENDING:
            return False
        return await _assemble(ctx, doc)

    return await ctx.uow.run(work)


async def _assemble(ctx: ExportsContext, doc: Doc) -> bool:
    received = doc.get("parts", {})
    parts: list[Part] = []
    for service in doc["expected"]:
        if service in received:
            data = await ctx.store.get(received[service]["object_name"])
            if data is not None:
                parts.append(Part(service, data))
    missing = [s for s in doc["expected"] if s not in {p.service for p in parts}]
    body = build_archive(
        export_id=doc["_id"],
        user_id=doc["user_id"],
        requested_at=doc["requested_at"],
        network="Weft",
        parts=parts,
        missing=missing,
    )
    stored = await ctx.store.put(archive_name(doc["_id"]), body)
    at = now()
    finished = await ctx.exports.finish(
        doc["_id"],
        doc["user_id"],
        {
            "status": "incomplete" if missing else "ready",
            "missing": missing,
            "archive": {"object_name": stored.name, "sha256": stored.sha256, "size": stored.size},
            "finished_at": at,
            "expires_at": at + timedelta(days=ctx.settings.retention_days),
        },
    )
    if not finished:
        return False

    async def announce(tx: Transaction) -> None:
        payload = (
            ExportIncomplete(export_id=doc["_id"], user_id=doc["user_id"], missing=missing)
            if missing
            else ExportReady(export_id=doc["_id"], user_id=doc["user_id"])
        )
        tx.announce(payload, aggregate=Exports.aggregate(doc["_id"]), community_id=None)

    await ctx.uow.run(announce)
    return True
