"""File contents in GridFS (bucket `files`: `files.files`, `files.chunks`) and the
`pending_uploads` that say which of them no version has claimed yet.

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

import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import datetime

from gridfs.asynchronous import AsyncGridFSBucket, AsyncGridOut
from gridfs.errors import NoFile
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session

BUCKET = "files"
# GridFS's default (255 KiB): a download reads one chunk document at a time.
CHUNK_BYTES = 255 * 1024


class FileContents:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)
        self.files = db[f"{BUCKET}.files"]
        self.chunks = db[f"{BUCKET}.chunks"]
        self.pending = db.pending_uploads

    async def create_indexes(self) -> None:
        # GridFS's own indexes (the driver makes them on a first write; here they exist from the start).
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
        """Store the contents under `file_id` (its `files.files` document is written last,
        once every chunk is in)."""
        stream = self.bucket.open_upload_stream_with_id(
            file_id,
            filename,
            metadata={"content_type": content_type, "sha256": sha256},
            session=current_session(),
        )
        try:
            for chunk in chunks:
                await stream.write(chunk)
        except BaseException:
            await stream.abort()
            raise
        await stream.close()

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
        """The contents and their pending record (chunks too when the files document was never written)."""
        session = current_session()
        # NoFile: only chunks were written (the driver deletes them before saying so).
        with contextlib.suppress(NoFile):
            await self.bucket.delete(file_id, session=session)
        await self.pending.delete_one({"_id": file_id}, session=session)

    async def open(self, file_id: str) -> AsyncGridOut:
        return await self.bucket.open_download_stream(file_id, session=current_session())

    async def count(self) -> int:
        """How many files GridFS holds (for tests and the bench)."""
        return await self.files.count_documents({}, session=current_session())


async def read_range(contents: AsyncGridOut, start: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes from `start`, a GridFS chunk at a time."""
    await contents.seek(start)
    left = length
    while left > 0:
        piece = await contents.read(min(left, CHUNK_BYTES))
        if not piece:
            return
        left -= len(piece)
        yield piece
