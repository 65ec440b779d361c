"""The search indexer: keeps this replica's index (search/index.py) up to date
with the database, by following the search feed (storage/search_feed.py).

- **Start**: open the index in `search_index_dir`. If it is new, unusable, of
  another schema version or built from another database, rebuild it: clear it,
  index every item, thread and reply, commit, and take the rebuild's start as
  the position. Then catch up from the position minus the window.
- **Follow**: each round reads the feed records touched since the newest one
  seen minus `search_margin_seconds`, and re-indexes those whose revision this
  replica has not applied: it re-reads the current document and replaces (or
  removes) what the index holds of it, so applying a record twice changes
  nothing. A change stream on the feed wakes it at once; without one (or while
  it is down) it polls every `search_poll_seconds`.
- **Late commits**: a record's `at` is taken inside its transaction, before the
  commit, so a transaction that commits after a later one has an older `at`.
  The margin catches the usual ones at once; every `search_sweep_seconds` a
  round re-reads the whole window (`search_window_seconds`, longer than any
  transaction may live: mongod aborts them at 60 s), which catches the rest.
- **Position**: written beside the index after each commit (the newest `at`
  applied); a restarted replica re-reads from it minus the window.

Replicas share nothing but the database: each follows the feed on its own and
converges on the same index."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from weft_resources.domain.documents import Doc
from weft_resources.search import sources
from weft_resources.search.documents import SearchDocument, document_key
from weft_resources.search.index import LocalIndex, Removal
from weft_resources.storage.search_feed import SearchFeed
from weft_shared.service.clock import now

log = logging.getLogger("weft.resources.search")

FEED_BATCH = 2_000
REBUILD_BATCH = 1_000


class SearchIndexer:
    def __init__(
        self,
        feed: SearchFeed,
        index: LocalIndex,
        *,
        poll_interval: float = 0.25,
        margin_seconds: float = 2.0,
        window_seconds: float = 120.0,
        sweep_interval: float = 5.0,
    ) -> None:
        self.feed = feed
        self.index = index
        self._poll = poll_interval
        self._margin = timedelta(seconds=margin_seconds)
        self._window = timedelta(seconds=window_seconds)
        self._sweep_interval = sweep_interval
        self._applied: dict[str, tuple[int, datetime]] = {}  # feed record id -> (rev, at) applied
        self._newest: datetime | None = None  # the newest `at` seen
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.watching = False

    # -- the job ----------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(), name="search indexer"),
            asyncio.create_task(self._watch(), name="search feed watch"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(self.index.close)

    async def _run(self) -> None:
        while True:
            try:
                await self.open()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("search index could not be opened, will retry: %s", exc)
                await asyncio.sleep(1.0)
        last_sweep = asyncio.get_running_loop().time()
        while True:
            try:
                sweep = asyncio.get_running_loop().time() - last_sweep >= self._sweep_interval
                await self.follow(sweep=sweep)
                if sweep:
                    last_sweep = asyncio.get_running_loop().time()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("search indexer failed, will retry: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll * (4 if self.watching else 1))
            self._wake.clear()

    async def _watch(self) -> None:
        """Wake the indexer on every touch another process (or this one) commits."""
        while True:
            try:
                async with await self.feed.watch() as stream:
                    self.watching = True
                    async for _change in stream:
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("no change stream on the search feed (%s): polling", exc)
            self.watching = False
            await asyncio.sleep(5.0)

    # -- steps (also called by tests and the bench) --------------------------------

    async def open(self) -> None:
        source = await self.feed.source_token()
        fresh = await asyncio.to_thread(self.index.open, source)
        if fresh:
            await self.rebuild()
        await self.follow(sweep=True)
        self.index.ready = True

    async def rebuild(self) -> int:
        """Index everything from the database. Returns how many documents it indexed."""
        started = now()
        await asyncio.to_thread(self.index.clear)
        count = 0
        batch: list[SearchDocument] = []

        async def flush() -> None:
            nonlocal count
            count += len(batch)
            await asyncio.to_thread(self.index.add, list(batch))
            batch.clear()

        async for item in self.feed.all_resources():
            doc = sources.resource_document(await self.feed.with_file_text(item))
            if doc is not None:
                batch.append(doc)
            if len(batch) >= REBUILD_BATCH:
                await flush()
        async for thread in self.feed.all_threads():
            batch.extend(await self._thread_documents(thread))
            if len(batch) >= REBUILD_BATCH:
                await flush()
        await flush()
        self._applied.clear()
        await asyncio.to_thread(self.index.apply, [], [], started)
        self._newest = started
        log.info("search index rebuilt: %d document(s)", count)
        return count

    async def follow(self, *, sweep: bool = False) -> int:
        """One round: apply the feed records not applied yet. Returns how many."""
        newest = self._newest or self.index.position
        reach = self._window if sweep or self._newest is None else self._margin
        since = None if newest is None else newest - reach
        applied = 0
        while True:
            records = await self.feed.records_since(since, FEED_BATCH)
            pending = [r for r in records if self._applied.get(r["_id"], (0,))[0] < r["rev"]]
            if pending:
                await self._apply(pending)
                applied += len(pending)
            if records:
                latest = records[-1]["at"]
                self._newest = latest if self._newest is None else max(self._newest, latest)
            if len(records) < FEED_BATCH or since == records[-1]["at"]:
                break
            since = records[-1]["at"]
        self._forget_old()
        return applied

    def _forget_old(self) -> None:
        if self._newest is None:
            return
        horizon = self._newest - self._window - self._window
        for key in [k for k, (_rev, at) in self._applied.items() if at < horizon]:
            del self._applied[key]

    async def _apply(self, records: list[Doc]) -> None:
        removals: list[Removal] = []
        # By key: a thread's records re-add its replies, an item's its comment thread, so one
        # batch can read a document twice; tantivy keeps every copy added after the removals.
        additions: dict[str, SearchDocument] = {}
        for record in records:
            r, a = await self._changes(record["doc_type"], record["ref_id"])
            removals.extend(r)
            additions.update((doc.key, doc) for doc in a)
        position = max(r["at"] for r in records)
        await asyncio.to_thread(self.index.apply, removals, list(additions.values()), position)
        for record in records:
            self._applied[record["_id"]] = (record["rev"], record["at"])

    async def _changes(self, doc_type: str, ref_id: str) -> tuple[list[Removal], list[SearchDocument]]:
        """What to remove and add so that the index holds the current state of this thing."""
        if doc_type == "resource":
            return await self._resource_changes(ref_id)
        if doc_type == "thread":
            thread = await self.feed.thread(ref_id)
            return [Removal("thread", ref_id)], [] if thread is None else await self._thread_documents(thread)
        if doc_type == "reply":
            return [Removal("key", document_key("reply", ref_id))], await self._reply_documents(ref_id)
        log.warning("search feed record of unknown type %r ignored", doc_type)
        return [], []

    async def _resource_changes(self, ref_id: str) -> tuple[list[Removal], list[SearchDocument]]:
        item = await self.feed.resource(ref_id)
        removals = [Removal("key", document_key("resource", ref_id))]
        doc = None if item is None else sources.resource_document(item)
        additions = [] if doc is None else [doc]
        # Its comment threads follow it (audience, archived or not).
        for thread in await self.feed.comment_threads(ref_id):
            removals.append(Removal("thread", str(thread["_id"])))
            additions.extend(await self._thread_documents(thread, item=item, item_known=True))
        return removals, additions

    async def _reply_documents(self, ref_id: str) -> list[SearchDocument]:
        reply = await self.feed.reply(ref_id)
        thread = None if reply is None else await self.feed.thread(reply["thread_id"])
        if reply is None or thread is None:
            return []
        context = await self._context(thread)
        doc = None if context is None else sources.reply_document(reply, thread, context)
        return [] if doc is None else [doc]

    async def _context(
        self, thread: Doc, *, item: Doc | None = None, item_known: bool = False
    ) -> sources.ThreadContext | None:
        if thread.get("kind") == "comments" and not item_known:
            item = await self.feed.resource(thread["resource_id"]) if thread.get("resource_id") else None
        return sources.thread_context(thread, item)

    async def _thread_documents(
        self, thread: Doc, *, item: Doc | None = None, item_known: bool = False
    ) -> list[SearchDocument]:
        """A thread and its replies, as searchable now (none if the thread is not)."""
        context = await self._context(thread, item=item, item_known=item_known)
        if context is None:
            return []
        docs = [sources.thread_document(thread, context)]
        async for replies in self.feed.replies_of(str(thread["_id"])):
            docs.extend(_present(sources.reply_document(r, thread, context) for r in replies))
        return docs


def _present(docs: Iterable[SearchDocument | None]) -> list[SearchDocument]:
    return [d for d in docs if d is not None]
