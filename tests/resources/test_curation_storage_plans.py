"""Every query curation and collections send reads through an index: each one is
recorded off the wire while every method of their stores runs (on a database of
the test's own), then `explain`ed, and no winning plan may be a COLLSCAN."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.isolated import isolated
from tests.support.query_plans import Recorder, collection_scans
from weft_resources.storage import ResourcesStorage
from weft_resources.storage.collections import CollectionStore
from weft_resources.storage.curation import CurationStore

Doc = dict[str, Any]
BASE = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
async def recorded(nats_server, database) -> AsyncIterator[tuple[ResourcesStorage, Recorder, AsyncDatabase[Doc]]]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "resources_plans") as env:
        await ResourcesStorage(env.db).create_indexes()
        recorder = Recorder()
        client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True, event_listeners=[recorder])
        try:
            yield ResourcesStorage(client[env.db.name]), recorder, env.db
        finally:
            await client.close()


def library_item(n: int, community_id: str, **fields: Any) -> Doc:
    return {
        "_id": f"r{n:03}",
        "community_id": community_id,
        "kind": "note",
        "title": f"Note {n}",
        "summary": "",
        "tags": [],
        "visibility": "community",
        "status": "published",
        "review_by": None,
        "review_next": None,
        "review_due": False,
        "review_due_key": None,
        "endorsed": None,
        "endorsed_key": None,
        "useful_count": 0,
        "created_by": "u0",
        "created_at": BASE,
        **fields,
    }


def public_methods(store: object) -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(type(store), inspect.iscoroutinefunction)
        if not name.startswith("_") and name != "create_indexes"
    }


async def test_every_curation_and_collection_query_reads_an_index(
    recorded: tuple[ResourcesStorage, Recorder, AsyncDatabase[Doc]],
) -> None:
    storage, recorder, db = recorded
    items = [
        library_item(
            n,
            f"c{n % 3}",
            review_next=BASE + timedelta(hours=n) if n % 2 else None,
            review_due_key=f"2027-01-0{1 + n % 3}T00:00:00.000Z:r{n:03}" if n % 4 == 0 else None,
            review_due=n % 4 == 0,
            endorsed={"by": "f", "at": BASE} if n % 5 == 0 else None,
            endorsed_key=f"2027-01-04T09:00:{n:02}.000Z:r{n:03}" if n % 5 == 0 else None,
        )
        for n in range(60)
    ]
    await db.resources.insert_many(items)
    curation, collections = storage.curation, storage.collections
    called: dict[str, set[str]] = {"curation": set(), "collections": set()}

    async def call(store: CurationStore | CollectionStore, name: str, *args: Any, **kwargs: Any) -> Any:
        called["curation" if isinstance(store, CurationStore) else "collections"].add(name)
        return await getattr(store, name)(*args, **kwargs)

    first = items[0]
    await call(curation, "item", "r001")
    await call(curation, "items_by_ids", ["r001", "r002", "r040"])
    await call(curation, "set_fields", "r001", {"status": "archived"})
    await call(curation, "claim_review", "r003", BASE + timedelta(hours=3), {"review_next": None})
    assert await call(curation, "due_for_review", BASE + timedelta(hours=10), limit=5)
    assert await call(curation, "review_due_page", "c0", after=None, limit=3)
    await call(curation, "review_due_page", "c0", after="2027-01-01T00:00:00.000Z:r000", limit=3)
    assert await call(curation, "recommended_page", "c0", before=None, limit=3)
    await call(curation, "recommended_page", "c0", before="2027-01-04T09:00:45.000Z:r045", limit=3)
    assert await call(curation, "add_mark", first, "u1", BASE) is True
    assert await call(curation, "has_mark", first["_id"], "u1") is True
    assert await call(curation, "remove_mark", first, "u1") is True

    for n in range(12):
        collection = {
            "_id": f"k{n:03}",
            "community_id": f"c{n % 2}",
            "title": f"List {n}",
            "description": "",
            "item_ids": ["r001"],
            "created_by": "u0",
            "created_at": BASE,
            "updated_by": "u0",
            "updated_at": BASE,
        }
        await call(collections, "insert", collection)
    await call(collections, "get", "k001")
    assert await call(collections, "page", "c0", before=None, limit=3)
    await call(collections, "page", "c0", before="k008", limit=3)
    await call(collections, "update", "k001", {"title": "Renamed"})
    assert await call(collections, "delete", "k002") is True

    assert called["curation"] == public_methods(curation), "every curation query is exercised"
    assert called["collections"] == public_methods(collections), "every collection query is exercised"
    explained, problems = await collection_scans(db, recorder.commands)
    assert explained >= 19
    assert problems == []


async def test_marks_count_once_per_person_and_never_below_zero(
    recorded: tuple[ResourcesStorage, Recorder, AsyncDatabase[Doc]],
) -> None:
    storage, _recorder, db = recorded
    item = library_item(1, "c0")
    await db.resources.insert_one(item)
    assert await storage.curation.add_mark(item, "ana", BASE) is True
    assert await storage.curation.add_mark(item, "ana", BASE) is False
    assert await storage.curation.add_mark(item, "ben", BASE) is True
    assert (await storage.curation.item(item["_id"]) or {})["useful_count"] == 2
    assert await storage.curation.remove_mark(item, "ana") is True
    assert await storage.curation.remove_mark(item, "ana") is False
    await db.resources.update_one({"_id": item["_id"]}, {"$set": {"useful_count": 0}})  # a counter already at 0
    assert await storage.curation.remove_mark(item, "ben") is True
    assert (await storage.curation.item(item["_id"]) or {})["useful_count"] == 0
