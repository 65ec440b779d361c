"""Every query of the library's storage (items, versions, the links it reads) reads
through an index: each is recorded off the wire while the storage methods run, then
`explain`ed on the database; no winning plan may be a COLLSCAN. The library page of a
community with partners reads one equality stream per source, each off its index."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.support.query_plans import Recorder, collection_scans
from weft_resources.storage import ResourcesStorage
from weft_resources.storage.items import own_stream, shared_stream

Doc = dict[str, Any]


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[ResourcesStorage, Recorder]]:
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True, event_listeners=[recorder])
    try:
        yield ResourcesStorage(client[f"resources_plans_{secrets.token_hex(3)}"]), recorder
    finally:
        await client.close()


def item(n: int, community_id: str, visibility: str, at: datetime, **fields: Any) -> Doc:
    return {
        "_id": f"r{n:04d}",
        "community_id": community_id,
        "kind": "note" if n % 2 else "link",
        "title": f"item {n}",
        "tags": ["t", f"t{n % 3}"],
        "visibility": visibility,
        "status": "published",
        "shared_with": [],
        "created_by": "u1",
        "created_at": at,
        "note_markdown": "x",
        **fields,
    }


async def test_every_library_query_reads_through_an_index(recorded: tuple[ResourcesStorage, Recorder]) -> None:
    storage, recorder = recorded
    await storage.create_indexes()
    base = datetime(2027, 1, 1, tzinfo=UTC)
    docs = [
        item(n, f"c{n % 4}", ("community", "partners", "network")[n % 3], base + timedelta(minutes=n // 2))
        for n in range(120)
    ]
    docs += [item(500 + n, "c9", "community", base, shared_with=["c0"]) for n in range(5)]
    await storage.db.resources.insert_many(docs)
    await storage.db.membership_links.insert_one(
        {"_id": "l1", "communities": ["c0", "c1"], "share_resources": True, "active": True, "seq": 1}
    )
    recorder.commands.clear()

    items = storage.items
    for kind, tag in ((None, None), ("note", None), (None, "t1")):
        streams = [own_stream("c0", "published", v, kind=kind, tag=tag) for v in ("community", "partners", "network")]
        streams += [own_stream("c1", "published", "partners", kind=kind, tag=tag)]
        streams += [shared_stream("c0", "published", kind=kind, tag=tag)]
        first = await items.page(streams, after=None, limit=10)
        assert len(first) == 10 and [d["created_at"] for d in first] == sorted(
            (d["created_at"] for d in first), reverse=True
        )
        second = await items.page(streams, after=(first[-1]["created_at"], first[-1]["_id"]), limit=10)
        assert not {d["_id"] for d in first} & {d["_id"] for d in second}
    await items.get("r0001")
    await items.update("r0001", fields={"title": "x"}, inc={"version": 1}, add_to={"shared_with": "c1"})
    await items.update("r0001", pull={"shared_with": "c1"})
    await storage.versions.add(
        {"_id": "r0001:1", "resource_id": "r0001", "number": 1, "change": "created", "note_markdown": "x"}
    )
    await storage.versions.get("r0001", 1)
    await storage.versions.page("r0001", before=None, limit=5)
    await storage.versions.page("r0001", before=2, limit=5)
    assert await storage.membership.linked_for_resources_with("c0") == ["c1"]
    await storage.membership.linked_for_resources("c0", "c1")

    explained, problems = await collection_scans(storage.db, recorder.commands)
    assert problems == [], "\n".join(problems)
    assert explained >= len(recorder.commands) > 30
