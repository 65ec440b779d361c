"""File items: upload (a new `file` item, version 1), a new version (n+1), and what a
download needs. The bytes are checked (sniffed against the allowlist, text extracted)
before anything is stored; GridFS chunks are written before the transaction that
records the version, which claims them (storage/files.py says why and how an
abandoned upload is swept)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import anyio

from weft_resources.domain.documents import Doc
from weft_resources.domain.file_delivery import clean_filename
from weft_resources.domain.file_types import FileType, RefusedFile, sniff
from weft_resources.domain.resources import ResourceKind, ReviewStatus, VersionChange, may_edit
from weft_resources.domain.text_extraction import extract_text
from weft_resources.messages import resource_snapshot
from weft_resources.schemas import ResourceView
from weft_resources.storage.versions import version_key
from weft_resources.usecases.access import announce, known_community, posting_community
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.resources import announce_version, editable_resource, resource_view, visible_resource
from weft_shared.contracts.resources import ResourceCreated, ResourcePublished
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

log = logging.getLogger("weft.resources.files")

_READ_CHUNK = 255 * 1024


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """An upload's bytes on disk, as the API received them."""

    file: IO[bytes]
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class CheckedFile:
    received: ReceivedFile
    file_type: FileType
    filename: str  # cleaned: no folders, no control characters
    text: str  # for search


@dataclass(frozen=True, slots=True)
class FileItemDetails:
    """The catalogue fields of a new file item (validated by the API's model)."""

    title: str
    summary: str
    tags: list[str]
    authors: list[str]
    licence: str | None
    source: str | None
    visibility: str
    status: str


def _refused(message: str) -> Problem:
    return Problem(message, status=415, errors=[{"field": "file", "message": message}])


def _check_now(received: ReceivedFile) -> CheckedFile:
    try:
        file_type = sniff(received.file, name=received.filename, size=received.size)
        text = extract_text(received.file, file_type)
    except RefusedFile as exc:
        raise _refused(str(exc)) from None
    filename = clean_filename(received.filename, fallback_extension=file_type.extension)
    return CheckedFile(received, file_type, filename, text)


async def check_file(received: ReceivedFile) -> CheckedFile:
    """Sniff and extract in a worker thread: parsing a large PDF must not stall the loop."""
    return await anyio.to_thread.run_sync(_check_now, received)


# Who may, checked before the body is read (and again in the transaction).


async def check_may_upload(ctx: ResourcesContext, person: Person, community_id: str) -> None:
    """404 if `person` may not know the community, 403 if they may not post in it. Read-only
    (the transaction checks again, holding the membership)."""
    _community, sight = await known_community(ctx, person, community_id)
    if not await sight.may_post(community_id):
        community = await sight.community(community_id)
        if community is not None and community.get("archived"):
            raise Forbidden("the community is archived: nothing new can be posted")
        raise Forbidden("only the community's active members can do this")


def _takes_upload(item: Doc) -> None:
    if item.get("kind") != ResourceKind.FILE:
        raise Conflict(f"this item is a {item.get('kind')}, not a file: it takes no upload")
    if item.get("status") == ReviewStatus.ARCHIVED:
        raise Conflict("the item is archived: restore it before uploading a new version")


async def check_may_add_version(ctx: ResourcesContext, person: Person, resource_id: str) -> Doc:
    """The item, if `person` may add a version: 404 if they may not see it, 403 if they may
    not change it, 409 if it is no file. Read-only (the transaction checks again)."""
    item, sight = await visible_resource(ctx, person, resource_id)
    community_id = item["community_id"]
    community = await sight.community(community_id)
    if community is not None and community.get("archived"):
        raise Forbidden("the community is archived: its library cannot change")
    staff = sight.standing.is_staff(community_id)
    if not may_edit(item, person.id, staff=staff, may_post=await sight.may_post(community_id)):
        raise Forbidden("only the item's creator and the community's owners and facilitators can change it")
    _takes_upload(item)
    return item


# Writing.


def _file_facts(checked: CheckedFile, file_id: str) -> Doc:
    return {
        "file_id": file_id,
        "filename": checked.filename,
        "content_type": checked.file_type.media_type,
        "size": checked.received.size,
        "sha256": checked.received.sha256,
    }


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    file.seek(0)
    while chunk := file.read(_READ_CHUNK):
        yield chunk


async def _store_contents(ctx: ResourcesContext, checked: CheckedFile, community_id: str) -> str:
    """The bytes into GridFS, under a pending record the version's transaction claims."""
    contents = ctx.storage.file_contents
    file_id = new_id()
    await contents.note_pending(file_id, community_id=community_id, started_at=now())
    try:
        await contents.write(
            file_id,
            filename=checked.filename,
            content_type=checked.file_type.media_type,
            sha256=checked.received.sha256,
            chunks=_chunks(checked.received.file),
        )
    except BaseException:
        await _forget(ctx, file_id)
        raise
    return file_id


async def _forget(ctx: ResourcesContext, file_id: str) -> None:
    try:
        await ctx.storage.file_contents.delete(file_id)
    except Exception as exc:  # the orphan sweep deletes it later
        log.warning("could not delete the contents of a failed upload %s yet: %s", file_id, exc)


async def _claim(ctx: ResourcesContext, file_id: str) -> None:
    if not await ctx.storage.file_contents.claim(file_id):
        raise Conflict("the upload took too long and its bytes were swept: send it again")


def _file_version(item: Doc, text: str, *, by: str) -> Doc:
    """The version document of the item's current file (DOCUMENTS.md, `resource_versions`)."""
    file = item["file"]
    return {
        "_id": version_key(item["_id"], item["version"]),
        "resource_id": item["_id"],
        "community_id": item["community_id"],
        "number": item["version"],
        "kind": ResourceKind.FILE.value,
        "change": VersionChange.UPLOADED.value,
        "restored_from": None,
        "created_by": by,
        "created_at": item["updated_at"],
        "title": item["title"],
        "file": file,
        "size": file["size"],
        "extracted_text": text,
    }


async def upload_file(
    ctx: ResourcesContext, person: Person, community_id: str, details: FileItemDetails, checked: CheckedFile
) -> ResourceView:
    """A new `file` item with its first version."""
    file_id = await _store_contents(ctx, checked, community_id)

    async def work(tx: Transaction) -> ResourceView:
        _, sight = await posting_community(ctx, person, community_id)
        await _claim(ctx, file_id)
        at = now()
        item: Doc = {
            "_id": new_id(),
            "community_id": community_id,
            "kind": ResourceKind.FILE.value,
            "title": details.title,
            "summary": details.summary,
            "tags": list(dict.fromkeys(details.tags)),
            "authors": list(details.authors),
            "licence": details.licence,
            "source": details.source,
            "visibility": details.visibility,
            "status": details.status,
            "url": None,
            "file": _file_facts(checked, file_id),
            "version": 1,
            "shared_with": [],
            "review_by": None,
            "review_due_for": None,
            "endorsed": None,
            "useful_count": 0,
            "comment_thread_id": None,
            "created_by": person.id,
            "created_at": at,
            "updated_by": person.id,
            "updated_at": at,
        }
        await ctx.storage.items.insert(item)
        await ctx.storage.versions.add(_file_version(item, checked.text, by=person.id))
        # Items' writes touch the search feed; the indexer reads the text from this version.
        aggregate = f"resources/{item['_id']}"
        snapshot = resource_snapshot(item)
        announce(tx, aggregate, community_id, ResourceCreated(resource=snapshot, created_by=person.id))
        if item["status"] == ReviewStatus.PUBLISHED:
            announce(tx, aggregate, community_id, ResourcePublished(resource=snapshot, published_by=person.id))
        return resource_view(item, sight)

    try:
        return await ctx.uow.run(work)
    except BaseException:
        await _forget(ctx, file_id)
        raise


async def add_file_version(
    ctx: ResourcesContext, person: Person, resource_id: str, checked: CheckedFile
) -> ResourceView:
    """Version n+1 of a file item."""
    first = await check_may_add_version(ctx, person, resource_id)
    file_id = await _store_contents(ctx, checked, first["community_id"])

    async def work(tx: Transaction) -> ResourceView:
        item, sight = await editable_resource(ctx, person, resource_id)
        _takes_upload(item)
        await _claim(ctx, file_id)
        # Two uploads racing both write the item: one conflicts, retries, and becomes n+2.
        item = await ctx.storage.items.update(
            resource_id,
            fields={"file": _file_facts(checked, file_id), "updated_by": person.id, "updated_at": now()},
            inc={"version": 1},
        )
        await ctx.storage.versions.add(_file_version(item, checked.text, by=person.id))
        # The item's update touched the search feed; the indexer reads the text from this version.
        announce_version(tx, item, person.id)
        return resource_view(item, sight)

    try:
        return await ctx.uow.run(work)
    except BaseException:
        await _forget(ctx, file_id)
        raise


# Reading.


@dataclass(frozen=True, slots=True)
class FileToSend:
    file: Doc  # {file_id, filename, content_type, size, sha256}
    version: int


async def file_to_download(ctx: ResourcesContext, person: Person, resource_id: str, number: int | None) -> FileToSend:
    """The file of version `number` (the current one when None) of an item `person` may see;
    the same 404 for an unknown item, one they may not see, and one that is not a file."""
    item, _sight = await visible_resource(ctx, person, resource_id)
    if item.get("kind") != ResourceKind.FILE:
        raise NotFound("no such file")
    if number is None or number == item["version"]:
        return FileToSend(item["file"], item["version"])
    version = await ctx.storage.versions.get(resource_id, number)
    if version is None or version.get("kind") != ResourceKind.FILE:
        raise NotFound("no such version")
    return FileToSend(version["file"], number)


async def sweep_abandoned_uploads(ctx: ResourcesContext, started_before: datetime, *, limit: int) -> int:
    """Delete the contents of uploads started before `started_before` that no version
    claimed. Each is first marked in a transaction (a racing claim then fails and its
    upload is refused), then deleted; a crash after the mark is finished by the next sweep."""
    contents = ctx.storage.file_contents
    deleted = 0
    for file_id in await contents.abandoned(started_before, limit=limit):

        async def mark(_tx: Transaction, file_id: str = file_id) -> bool:
            return await contents.mark_sweeping(file_id)

        if await ctx.uow.run(mark):
            await contents.delete(file_id)
            deleted += 1
    return deleted
