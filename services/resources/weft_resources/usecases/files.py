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
from weft_resources.domain.text_extraction import extract_text
from weft_resources.storage.file_items import version_id
from weft_resources.usecases.access import announce, known_community, posting_community, sight_of
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.resources import (
    FileFacts,
    ResourceCreated,
    ResourcePublished,
    ResourceSnapshot,
    ResourceVersionAdded,
)
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
    _community, sight = await known_community(ctx, person, community_id)
    if not await sight.may_post(community_id):
        community = await sight.community(community_id)
        if community is not None and community.get("archived"):
            raise Forbidden("the community is archived: nothing new can be posted")
        raise Forbidden("only the community's active members can do this")


async def _changeable_file_item(ctx: ResourcesContext, person: Person, resource_id: str) -> Doc:
    """The file item `person` may add a version to: 404 if they may not see it, 403 if they
    may see it but not change it, 409 for an item that is not a file."""
    item = await ctx.storage.file_items.get_item(resource_id)
    sight = await sight_of(ctx, person.id)
    if item is None or not await sight.can_see_resource(item):
        raise NotFound("no such resource")
    community_id = item["community_id"]
    if item.get("created_by") != person.id and not sight.standing.is_staff(community_id):
        raise Forbidden("only the item's creator and the community's owners and facilitators can upload a new version")
    if not await sight.may_post(community_id):
        raise Forbidden("only the community's active members can do this (is the community archived?)")
    if item.get("kind") != "file":
        raise Conflict(f"this item is a {item.get('kind')}, not a file: it takes no upload")
    if item.get("status") == "archived":
        raise Conflict("the item is archived: restore it before uploading a new version")
    return item


async def check_may_add_version(ctx: ResourcesContext, person: Person, resource_id: str) -> None:
    await _changeable_file_item(ctx, person, resource_id)


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


def _version(item: Doc, number: int, file: Doc, text: str, *, change: str, by: str, at: datetime) -> Doc:
    return {
        "_id": version_id(item["_id"], number),
        "resource_id": item["_id"],
        "community_id": item["community_id"],
        "number": number,
        "kind": "file",
        "change": change,
        "restored_from": None,
        "created_by": by,
        "created_at": at,
        "title": item["title"],
        "file": file,
        "extracted_text": text,
    }


async def upload_file(
    ctx: ResourcesContext, person: Person, community_id: str, details: FileItemDetails, checked: CheckedFile
) -> Doc:
    """A new `file` item with its first version; the item as stored."""
    file_id = await _store_contents(ctx, checked, community_id)

    async def work(tx: Transaction) -> Doc:
        await posting_community(ctx, person, community_id)
        await _claim(ctx, file_id)
        at = now()
        file = _file_facts(checked, file_id)
        item: Doc = {
            "_id": new_id(),
            "community_id": community_id,
            "kind": "file",
            "title": details.title,
            "summary": details.summary,
            "tags": details.tags,
            "authors": details.authors,
            "licence": details.licence,
            "source": details.source,
            "visibility": details.visibility,
            "status": details.status,
            "url": None,
            "file": file,
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
        await ctx.storage.file_items.insert_item(item)
        await ctx.storage.file_items.insert_version(
            _version(item, 1, file, checked.text, change="uploaded", by=person.id, at=at)
        )
        # SEARCH FEED HOOK: `storage.search_feed.touch("resource", item["_id"])` here, once it is on main.
        aggregate = f"resources/{item['_id']}"
        snapshot = resource_snapshot(item)
        announce(tx, aggregate, community_id, ResourceCreated(resource=snapshot, created_by=person.id))
        if item["status"] == "published":
            announce(tx, aggregate, community_id, ResourcePublished(resource=snapshot, published_by=person.id))
        return item

    try:
        return await ctx.uow.run(work)
    except BaseException:
        await _forget(ctx, file_id)
        raise


async def add_file_version(ctx: ResourcesContext, person: Person, resource_id: str, checked: CheckedFile) -> Doc:
    """Version n+1 of a file item; the item as stored."""
    first = await _changeable_file_item(ctx, person, resource_id)
    file_id = await _store_contents(ctx, checked, first["community_id"])

    async def work(tx: Transaction) -> Doc:
        item = await _changeable_file_item(ctx, person, resource_id)
        await posting_community(ctx, person, item["community_id"])
        await _claim(ctx, file_id)
        at = now()
        number = item["version"] + 1
        file = _file_facts(checked, file_id)
        if not await ctx.storage.file_items.set_current_file(
            resource_id, expected_version=item["version"], file=file, version=number, by=person.id, at=at
        ):
            raise Conflict("the item changed meanwhile: send the upload again")
        item = {**item, "file": file, "version": number, "updated_by": person.id, "updated_at": at}
        await ctx.storage.file_items.insert_version(
            _version(item, number, file, checked.text, change="uploaded", by=person.id, at=at)
        )
        # SEARCH FEED HOOK: `storage.search_feed.touch("resource", resource_id)` here, once it is on main.
        announce(
            tx,
            f"resources/{resource_id}",
            item["community_id"],
            ResourceVersionAdded(
                resource=resource_snapshot(item), version=number, restored_from=None, added_by=person.id
            ),
        )
        return item

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
    item = await ctx.storage.file_items.get_item(resource_id)
    sight = await sight_of(ctx, person.id)
    if item is None or not await sight.can_see_resource(item) or item.get("kind") != "file":
        raise NotFound("no such file")
    if number is None or number == item["version"]:
        return FileToSend(item["file"], item["version"])
    version = await ctx.storage.file_items.get_version(resource_id, number)
    if version is None or version.get("kind") != "file":
        raise NotFound("no such version")
    return FileToSend(version["file"], number)


def resource_snapshot(item: Doc) -> ResourceSnapshot:
    """STAND-IN for the library's `messages.resource_snapshot(doc)`: the bus's view of an item."""
    file = item.get("file")
    endorsed = item.get("endorsed")
    return ResourceSnapshot(
        id=item["_id"],
        community_id=item["community_id"],
        kind=item["kind"],
        title=item["title"],
        summary=item["summary"],
        tags=item["tags"],
        authors=item["authors"],
        licence=item["licence"],
        source=item["source"],
        visibility=item["visibility"],
        status=item["status"],
        endorsed=bool(endorsed),
        review_by=item.get("review_by"),
        version=item["version"],
        url=item.get("url"),
        file=FileFacts(**{k: file[k] for k in ("filename", "content_type", "size", "sha256")}) if file else None,
        shared_with=item.get("shared_with", []),
        created_by=item["created_by"],
    )


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
