"""Every query search makes reads through an index: the feed's writes, the indexer's
reads (a rebuild, following the feed, re-reading items, threads, replies, file text
and comment threads) and the search use case's (the caller's standing, hidden and
known communities). Each is recorded off the wire while the real indexer and use
case run on a database of their own, then `explain`ed; no winning plan may scan a
collection, but for a rebuild's one pass over every item and thread (it reads them
all: a collection scan is the cheapest way to)."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient

from tests.support.query_plans import Recorder, collection_scans
from weft_resources.jobs.search_indexer import SearchIndexer
from weft_resources.search.engine import SearchEngine
from weft_resources.search.index import LocalIndex
from weft_resources.search.query import SearchFilters
from weft_resources.settings import ResourcesSettings
from weft_resources.storage import ResourcesStorage
from weft_resources.storage.search_feed import SearchFeed
from weft_resources.usecases import search as search_usecase
from weft_resources.usecases.context import ResourcesContext
from weft_shared.auth.tokens import Principal
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.service.actor import Person
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import UnitOfWork

Doc = dict[str, Any]


class Calls:
    """The feed, with the names of the methods called on it (to prove each one ran)."""

    def __init__(self, target: SearchFeed) -> None:
        self._target = target
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if callable(attr):
            self.called.add(name)
        return attr

    def methods(self) -> set[str]:
        return {
            name
            for name, member in inspect.getmembers(type(self._target), inspect.isfunction)
            if not name.startswith("_") and name not in ("create_indexes", "watch")
        }


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[ResourcesStorage, Recorder, AsyncMongoClient[Doc]]]:
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True, event_listeners=[recorder])
    name = f"resources_search_plans_{secrets.token_hex(4)}"
    try:
        storage = ResourcesStorage(client[name])
        await storage.create_indexes()
        yield storage, recorder, client
    finally:
        await client.drop_database(name)
        await client.close()


def an_item(n: int, community_id: str, at: datetime, **fields: Any) -> Doc:
    return {
        "_id": f"r{n:03}",
        "community_id": community_id,
        "kind": "note",
        "title": f"Falls item {n}",
        "summary": "",
        "tags": ["falls"],
        "note_markdown": "Residents falling at night.",
        "visibility": ["community", "partners", "network"][n % 3],
        "status": "published",
        "shared_with": [],
        "version": 1,
        "created_by": f"u{n % 3}",
        "created_at": at,
        **fields,
    }


def a_thread(thread_id: str, community_id: str, at: datetime, **fields: Any) -> Doc:
    return {
        "_id": thread_id,
        "community_id": community_id,
        "kind": "discussion",
        "resource_id": None,
        "title": "Falls at night",
        "body_markdown": "How do you prevent falls?",
        "author_id": "u1",
        "anonymous": False,
        "chatham_house": False,
        "created_at": at,
        **fields,
    }


async def test_every_search_query_reads_through_an_index(
    recorded: tuple[ResourcesStorage, Recorder, AsyncMongoClient[Doc]], tmp_path: Path
) -> None:
    storage, recorder, client = recorded
    at = datetime.now(UTC)
    membership = storage.membership
    for n, (community_id, visibility) in enumerate((("c0", "public"), ("c1", "public"), ("c2", "hidden"))):
        await membership.record_community(community_id, {"visibility": visibility, "archived": False}, n + 1)
    for community_id in ("c0", "c1"):
        await membership.record_member(community_id, "u1", {"active": True, "role": "facilitator"}, 10)
    await membership.record_link("l1", {"active": True, "share_resources": True, "communities": ["c0", "c3"]}, 20)
    # Items (a file with its version's text), threads with replies, a comment thread on an item.
    for n in range(12):
        await storage.items.insert(an_item(n, f"c{n % 3}", at))
    await storage.items.insert(an_item(50, "c0", at, kind="file", title="Falls audit", version=1))
    await storage.versions.add(
        {
            "_id": "r050:1",
            "resource_id": "r050",
            "community_id": "c0",
            "number": 1,
            "kind": "file",
            "change": "uploaded",
            "created_by": "u1",
            "created_at": at,
            "title": "Falls audit",
            "extracted_text": "Falls audit by ward.",
        }
    )
    for t in range(3):
        await storage.threads.insert(a_thread(f"t{t}", f"c{t % 2}", at))
    await storage.threads.insert(a_thread("comments-r000", "c0", at, kind="comments", resource_id="r000"))
    for p in range(1, 8):
        reply = {"_id": f"p{p:02}", "thread_id": f"t{p % 2}", "community_id": f"c{p % 2}", "position": p}
        await storage.replies.insert({**reply, "author_id": "u1", "body_markdown": "Falls mats.", "created_at": at})

    recorder.commands.clear()
    feed = Calls(storage.search_feed)
    storage.search_feed = cast(SearchFeed, feed)  # the use case and the writes below go through it too
    indexer = SearchIndexer(cast(SearchFeed, feed), LocalIndex(tmp_path / "index"), window_seconds=60)
    await indexer.open()  # a new index: a rebuild, then the feed from the rebuild's start
    assert indexer.index.count() == 12 + 1 + 4 + 7
    # Changes of every kind, followed: an item with a comment thread, a file, a thread, a reply.
    for doc_type, ref_id in (("resource", "r000"), ("resource", "r050"), ("thread", "t0"), ("reply", "p03")):
        await feed.touch(doc_type, ref_id)
    assert await indexer.follow() == 4
    assert await indexer.follow(sweep=True) == 0  # applied once: the sweep re-reads and skips them
    await feed.records_since(None, 10)  # an index whose position was never written reads the feed from the start
    assert indexer.index.count() == 12 + 1 + 4 + 7, "each document once, however many records named it"

    settings = ResourcesSettings(platform=PlatformSettings(env="dev"))
    uow = UnitOfWork(client, Outbox(storage.db), MessageFactory(settings.platform, "/weft/resources"))
    ctx = ResourcesContext(uow, storage, settings)
    engine = SearchEngine(indexer.index)
    me = Person(Principal(sub="u1", email=None, name=None, expires_at=0.0))
    items, _next = await search_usecase.search(ctx, engine, me, "falls", SearchFilters(), limit=5, cursor=None)
    assert items
    await feed.known_communities(set())
    await indexer.stop()

    assert feed.methods() <= feed.called, f"not exercised: {feed.methods() - feed.called}"
    full_passes = [
        c for c in recorder.commands if c.get("find") in ("resources", "threads") and c.get("filter", {}) == {}
    ]
    assert len(full_passes) == 2, "the rebuild's one pass over items and threads"
    checked = [c for c in recorder.commands if not any(c is p for p in full_passes)]
    explained, problems = await collection_scans(storage.db, checked)
    assert problems == [], "\n".join(problems)
    assert explained >= len(checked) > 30
