"""File contents in GridFS (bucket `files`: `files.files`, `files.chunks`) and the
`pending_uploads` that say which of them no version has claimed yet.

The documents are GridFS's own (the spec's fields; any driver's bucket reads them),
written and read here a few chunks at a time: PyMongo's `GridIn` buffers up to 32 MB of
chunks before it inserts them, and `GridOut` reads a cursor batch of ~100 chunks (25 MB),
so a 20 MB upload or download through them held the whole file in memory.

A file's chunks are written before the transaction that records its version (a
50 MB write does not belong in a transaction), so an upload first notes a pending
record, then writes the chunks, and the version's transaction deletes the record
(`claim`). A crash in between leaves the record behind: the orphan sweep
(jobs/file_orphans.py) deletes the contents of records older than an hour.

Whoever deletes a pending record first wins: `claim` in the version's transaction,
or the sweep's `mark_sweeping` in its own; the two conflict, so a version never
refers to contents the sweep deletes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime

from bson.binary import Binary
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.service.clock import now
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

BUCKET = "files"
# GridFS's default chunk size (255 KiB).
CHUNK_BYTES = 255 * 1024
# Chunks per insert and per cursor batch: about 1 MiB in flight either way.
CHUNKS_AT_ONCE = 4


class MissingChunk(IOError):
    """A file's chunks have a gap: its contents were deleted or never finished."""


def _rechunked(pieces: Iterable[bytes]) -> Iterator[bytes]:
    """Cut the stream into CHUNK_BYTES pieces (the last may be shorter), as GridFS stores them."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            yield bytes(buffer[:CHUNK_BYTES])
            del buffer[:CHUNK_BYTES]
    if buffer:
        yield bytes(buffer)


class FileContents:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.files = db[f"{BUCKET}.files"]
        self.chunks = db[f"{BUCKET}.chunks"]
        self.pending = db.pending_uploads

    async def create_indexes(self) -> None:
        # GridFS's own indexes (the spec's names and keys).
        await self.chunks.create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
        await self.files.create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
        # The sweep reads the oldest unclaimed uploads first.
        await self.pending.create_index([("sweeping", ASCENDING), ("started_at", ASCENDING)])
        await ensure_collection(self.pending)

    async def note_pending(self, file_id: str, *, community_id: str, started_at: datetime) -> None:
        """Before any chunk is written; outside any transaction, so it survives a crash."""
        await self.pending.insert_one(
            {"_id": file_id, "community_id": community_id, "started_at": started_at, "sweeping": False},
            session=current_session(),
        )

    async def write(
        self, file_id: str, *, filename: str, content_type: str, sha256: str, chunks: Iterable[bytes]
    ) -> None:
        """Store the contents under `file_id`: the chunks, then the `files.files` document
        (so a file whose document exists is complete). On failure the chunks are deleted."""
        session = current_session()
        number = length = 0
        batch: list[Doc] = []
        try:
            for piece in _rechunked(chunks):
                batch.append({"files_id": file_id, "n": number, "data": Binary(piece)})
                number += 1
                length += len(piece)
                if len(batch) == CHUNKS_AT_ONCE:
                    await self.chunks.insert_many(batch, session=session)
                    batch = []
            if batch:
                await self.chunks.insert_many(batch, session=session)
            await self.files.insert_one(
                {
                    "_id": file_id,
                    "length": length,
                    "chunkSize": CHUNK_BYTES,
                    "uploadDate": now(),
                    "filename": filename,
                    "metadata": {"content_type": content_type, "sha256": sha256},
                },
                session=session,
            )
        except BaseException:
            await self.chunks.delete_many({"files_id": file_id}, session=session)
            raise

    async def read(self, file_id: str, start: int, length: int) -> AsyncIterator[bytes]:
        """`length` bytes from `start`, a chunk at a time, a few chunks per round trip."""
        if length <= 0:
            return
        first, last = start // CHUNK_BYTES, (start + length - 1) // CHUNK_BYTES
        cursor = (
            self.chunks.find(
                {"files_id": file_id, "n": {"$gte": first, "$lte": last}},
                {"_id": 0, "n": 1, "data": 1},
                session=current_session(),
            )
            .sort("n", ASCENDING)
            .batch_size(CHUNKS_AT_ONCE)
        )
        expected = first
        end = start + length
        async for chunk in cursor:
            if chunk["n"] != expected:
                raise MissingChunk(f"file {file_id} has no chunk {expected}")
            offset = expected * CHUNK_BYTES
            data: bytes = chunk["data"]
            yield data[max(start - offset, 0) : min(end - offset, len(data))]
            expected += 1
        if expected != last + 1:
            raise MissingChunk(f"file {file_id} has no chunk {expected}")

    async def claim(self, file_id: str) -> bool:
        """In the version's transaction: the contents are now referred to. False when the
        sweep took them first (the upload then fails and must be sent again)."""
        result = await self.pending.delete_one({"_id": file_id, "sweeping": False}, session=current_session())
        return result.deleted_count == 1

    async def abandoned(self, started_before: datetime, *, limit: int) -> list[str]:
        """Unclaimed uploads started before `started_before`, and any the sweep already marked."""
        session = current_session()
        marked = await self.pending.find({"sweeping": True}, {"_id": 1}, session=session).limit(limit).to_list()
        old = (
            await self.pending.find(
                {"sweeping": False, "started_at": {"$lt": started_before}}, {"_id": 1}, session=session
            )
            .sort("started_at", ASCENDING)
            .limit(limit)
            .to_list()
        )
        return [d["_id"] for d in marked + old]

    async def mark_sweeping(self, file_id: str) -> bool:
        """In the sweep's transaction: from now on no version can claim these contents."""
        result = await self.pending.update_one(
            {"_id": file_id}, {"$set": {"sweeping": True}}, session=current_session()
        )
        return result.matched_count == 1

    async def delete(self, file_id: str) -> None:
        """The contents (its document first, so a half-deleted file is never read as whole)
        and its pending record."""
        session = current_session()
        await self.files.delete_one({"_id": file_id}, session=session)
        await self.chunks.delete_many({"files_id": file_id}, session=session)
        await self.pending.delete_one({"_id": file_id}, session=session)
