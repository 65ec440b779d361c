"""Every query of the file storage (GridFS chunks, pending uploads, the orphan sweep's
reads) reads through an index: recorded off the wire while the storage methods run,
then `explain`ed; no winning plan may be a COLLSCAN."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.support.query_plans import Recorder, collection_scans
from weft_resources.storage.files import CHUNK_BYTES, FileContents

Doc = dict[str, Any]


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[FileContents, Recorder, Any]]:
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True, event_listeners=[recorder])
    db = client[f"resources_file_plans_{secrets.token_hex(3)}"]
    try:
        yield FileContents(db), recorder, db
    finally:
        await client.drop_database(db.name)
        await client.close()


async def test_every_file_storage_query_reads_through_an_index(recorded: tuple[FileContents, Recorder, Any]) -> None:
    contents, recorder, db = recorded
    await contents.create_indexes()
    old = datetime(2027, 1, 1, tzinfo=UTC)
    for n in range(30):  # enough files that a scan would show
        file_id = f"f{n:03d}"
        await contents.note_pending(file_id, community_id="c1", started_at=old + timedelta(minutes=n))
        await contents.write(
            file_id, filename="a.bin", content_type="x", sha256="0", chunks=[b"y" * (CHUNK_BYTES + 10)]
        )
    recorder.commands.clear()

    data = b"".join([piece async for piece in contents.read("f001", CHUNK_BYTES - 5, 10)])
    assert data == b"y" * 10
    assert await contents.claim("f002")
    assert await contents.abandoned(old + timedelta(minutes=10), limit=5)
    assert await contents.mark_sweeping("f003")
    assert "f003" in await contents.abandoned(old, limit=5)
    await contents.delete("f003")

    explained, problems = await collection_scans(db, recorder.commands)
    assert explained >= 8 and problems == []


async def test_contents_the_sweep_marked_can_no_longer_be_claimed(
    recorded: tuple[FileContents, Recorder, Any],
) -> None:
    contents, _recorder, db = recorded
    await contents.create_indexes()
    at = datetime(2027, 1, 1, tzinfo=UTC)
    for file_id in ("late", "claimed"):
        await contents.note_pending(file_id, community_id="c1", started_at=at)
        await contents.write(file_id, filename="a.bin", content_type="x", sha256="0", chunks=[b"z" * 10])
    assert await contents.claim("claimed")
    assert not await contents.mark_sweeping("claimed")  # claimed first: the sweep leaves it alone
    assert await contents.abandoned(at + timedelta(hours=2), limit=10) == ["late"]
    assert await contents.mark_sweeping("late")
    assert not await contents.claim("late")  # the version's transaction then refuses the upload
    await contents.delete("late")
    assert await db["files.files"].count_documents({}) == 1
    assert await db["files.chunks"].count_documents({"files_id": "late"}) == 0
    assert [p async for p in contents.read("claimed", 0, 10)] == [b"z" * 10]
