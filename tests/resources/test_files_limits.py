"""The upload size limit (413, nothing stored) and the sweep of abandoned uploads, on a
second resources replica with a small limit and a quick sweep, behind its own gateway
(it shares the session's database and durable consumer, as replicas do)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.conftest import StartService
from tests.resources.file_uploads import community_with, gridfs_count, upload
from tests.support.api import new_person, problem_fields
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_resources.storage.files import FileContents
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id

Doc = dict[str, Any]
LIMIT = 64 * 1024


@pytest.fixture
async def small(start_service: StartService, membership_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    resources = start_service(
        "resources",
        env={"WEFT_RESOURCES_MAX_UPLOAD_BYTES": str(LIMIT), "WEFT_RESOURCES_FILE_ORPHAN_POLL_SECONDS": "0.5"},
    )
    gateway = start_service(
        "gateway",
        env={"WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url, "WEFT_GATEWAY_RESOURCES_URL": resources.url},
    )
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        yield client


async def test_an_upload_past_the_limit_is_413_and_stores_nothing(
    web: httpx.AsyncClient, small: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    owner = new_person("owner")
    community_id = await community_with(web, resources_db, owner)
    before = await gridfs_count(resources_db)
    too_big = await upload(small, owner, community_id, "notes.txt", b"a" * (LIMIT + 1))
    assert problem_fields(too_big, 413) == {"file"}
    # Several times the limit: refused as it streams in, and the answer still arrives.
    far_too_big = await upload(small, owner, community_id, "notes.txt", b"a" * (LIMIT * 8))
    assert problem_fields(far_too_big, 413) == {"file"}
    assert await gridfs_count(resources_db) == before
    assert await resources_db.resources.count_documents({"community_id": community_id}) == 0
    at_the_limit = await upload(small, owner, community_id, "notes.txt", b"a" * LIMIT)
    assert at_the_limit.status_code == 201, at_the_limit.text
    assert at_the_limit.json()["file"]["size"] == LIMIT


async def test_contents_no_version_claimed_are_swept_after_an_hour(
    web: httpx.AsyncClient, small: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    owner = new_person("owner")
    community_id = await community_with(web, resources_db, owner)
    kept = await upload(small, owner, community_id, "kept.txt", b"a claimed upload\n")
    assert kept.status_code == 201, kept.text

    # What a process that died between writing the chunks and committing the version leaves
    # behind: a pending record and the contents (written here through the service's own storage).
    contents = FileContents(resources_db)
    abandoned, recent = new_id(), new_id()
    for file_id, started in ((abandoned, now() - timedelta(hours=2)), (recent, now() - timedelta(minutes=5))):
        await contents.note_pending(file_id, community_id=community_id, started_at=started)
        await contents.write(
            file_id, filename="x.bin", content_type="text/plain", sha256="0" * 64, chunks=[b"x" * 300_000]
        )

    async def swept() -> bool:
        return (
            await resources_db["files.files"].count_documents({"_id": abandoned}) == 0
            and await resources_db["files.chunks"].count_documents({"files_id": abandoned}) == 0
            and await resources_db.pending_uploads.count_documents({"_id": abandoned}) == 0
        )

    await eventually(swept, what="the abandoned upload swept")
    assert await resources_db["files.files"].count_documents({"_id": recent}) == 1  # not an hour old yet
    version = await resources_db.resource_versions.find_one({"_id": f"{kept.json()['id']}:1"})
    assert version is not None
    assert await resources_db["files.files"].count_documents({"_id": version["file"]["file_id"]}) == 1
    download = await small.get(f"/v1/resources/{kept.json()['id']}/file", headers=owner.headers)
    assert download.content == b"a claimed upload\n"
    await contents.delete(recent)
