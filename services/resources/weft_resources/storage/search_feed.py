"""The search feed, and the reads the search indexer and the search use case make.

Every use case that changes what search shows (an item's text, tags, status,
visibility or sharing; a thread or reply posted, edited, hidden, removed) calls
`touch` in its transaction: one small record per searchable thing, `_id` =
`<doc_type>:<id>`, with the time of the change (`at`) and a revision counted up
on every touch. The record commits with the change or not at all, so no change
can be missed; each replica's indexer follows the records (jobs/search_indexer.py)
and re-reads the current document, so applying one twice changes nothing.

Two touches of one thing conflict (one retries): `rev` order is commit order per
thing. Between things there is no such order, and `at` is taken before commit,
so a record can appear with an `at` older than one already read: the indexer
re-reads a window of past `at`s for that (see its docstring)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Literal

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_resources.storage.threads import comments_thread_id
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import current_session

SearchDocType = Literal["resource", "thread", "reply"]
# The collections search reads: the library's and the discussions' (DOCUMENTS.md).
RESOURCES = "resources"
THREADS = "threads"
REPLIES = "replies"


class SearchFeed:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.records: AsyncCollection[Doc] = db.search_feed
        self.meta: AsyncCollection[Doc] = db.search_meta
        self.resources: AsyncCollection[Doc] = db[RESOURCES]
        self.threads: AsyncCollection[Doc] = db[THREADS]
        self.replies: AsyncCollection[Doc] = db[REPLIES]
        self.versions: AsyncCollection[Doc] = db.resource_versions
        self.communities: AsyncCollection[Doc] = db.membership_communities

    async def create_indexes(self) -> None:
        await self.records.create_index([("at", ASCENDING)])
        await self.replies.create_index([("thread_id", ASCENDING), ("_id", ASCENDING)])
        await self.communities.create_index([("visibility", ASCENDING)])

    # -- writing (in the changing use case's transaction) ------------------------

    async def touch(self, doc_type: SearchDocType, ref_id: str) -> None:
        """Say that what search shows of this thing may have changed."""
        await self.records.update_one(
            {"_id": f"{doc_type}:{ref_id}"},
            {"$set": {"doc_type": doc_type, "ref_id": ref_id, "at": now()}, "$inc": {"rev": 1}},
            upsert=True,
            session=current_session(),
        )

    # -- following the feed (the indexer) ------------------------------------------

    async def records_since(self, since: datetime | None, limit: int) -> list[Doc]:
        """Records touched at or after `since` (all, when None), oldest first."""
        query: Doc = {} if since is None else {"at": {"$gte": since}}
        cursor = self.records.find(query, session=current_session()).sort("at", ASCENDING).limit(limit)
        return await cursor.to_list()

    def watch(self) -> Any:
        """A change stream of touches (where the server has change streams): the indexer's wake-up."""
        return self.records.watch([{"$match": {"operationType": {"$in": ["insert", "update", "replace"]}}}])

    async def source_token(self) -> str:
        """A value made once per database: an index built from another database
        (or from this one before it was dropped) has another, and is rebuilt."""
        doc = await self.meta.find_one_and_update(
            {"_id": "search-source"},
            {"$setOnInsert": {"token": secrets.token_hex(16)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=current_session(),
        )
        assert doc is not None  # an upsert returning the document after
        return str(doc["token"])

    # -- the documents search is built from -------------------------------------------

    async def resource(self, resource_id: str) -> Doc | None:
        item = await self.resources.find_one({"_id": resource_id}, session=current_session())
        return None if item is None else await self.with_file_text(item)

    async def with_file_text(self, item: Doc) -> Doc:
        """A file item with its current version's extracted text as `file_text` (the item
        document does not hold it: it can be a megabyte, and every list reads items)."""
        if item.get("kind") != "file":
            return item
        version = await self.versions.find_one(
            {"_id": f"{item['_id']}:{item.get('version', 1)}"},
            projection={"extracted_text": 1},
            session=current_session(),
        )
        return {**item, "file_text": (version or {}).get("extracted_text") or ""}

    async def thread(self, thread_id: str) -> Doc | None:
        return await self.threads.find_one({"_id": thread_id}, session=current_session())

    async def reply(self, reply_id: str) -> Doc | None:
        return await self.replies.find_one({"_id": reply_id}, session=current_session())

    async def comment_threads(self, resource_id: str) -> list[Doc]:
        """The item's comment thread, if it has one (its `_id` is derived from the item's)."""
        thread = await self.threads.find_one({"_id": comments_thread_id(resource_id)}, session=current_session())
        return [] if thread is None else [thread]

    async def replies_of(self, thread_id: str, *, batch: int = 500) -> AsyncIterator[list[Doc]]:
        """A thread's replies, a batch at a time (keyset on `_id`)."""
        last: Any = None
        while True:
            query: Doc = {"thread_id": thread_id}
            if last is not None:
                query["_id"] = {"$gt": last}
            cursor = self.replies.find(query, session=current_session()).sort([("thread_id", 1), ("_id", 1)])
            docs = await cursor.limit(batch).to_list()
            if not docs:
                return
            yield docs
            last = docs[-1]["_id"]

    def all_resources(self) -> Any:
        """Every item, for a rebuild: one pass over the collection, in no order."""
        return self.resources.find({}, batch_size=1000)

    def all_threads(self) -> Any:
        return self.threads.find({}, batch_size=1000)

    # -- the search use case ---------------------------------------------------------

    async def hidden_communities(self) -> frozenset[str]:
        query = {"visibility": "hidden"}
        docs = await self.communities.find(query, projection={"_id": 1}, session=current_session()).to_list()
        return frozenset(str(d["_id"]) for d in docs)

    async def known_communities(self, community_ids: set[str]) -> frozenset[str]:
        """Which of these communities the membership view knows."""
        if not community_ids:
            return frozenset()
        query = {"_id": {"$in": sorted(community_ids)}}
        docs = await self.communities.find(query, projection={"_id": 1}, session=current_session()).to_list()
        return frozenset(str(d["_id"]) for d in docs)
