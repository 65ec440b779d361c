"""Search over 100,000 library items and posts (target: p95 ≤ 100 ms per query).

Builds a tantivy index of 100,000 generated documents (varied English-like text from
a fixed seed: a Zipf-distributed vocabulary of real and made-up words, titles of 3-8
words, bodies of 40-400 words, 300 communities, a mix of visibilities, drafts and
threads) in a temporary folder, prints the build time and the size on disk, then the
p50/p95/p99 of queries of one, two and three words and of two-word phrases, for a
caller who is a member of 5 communities with 20 links sharing resources and 20
hidden communities to leave out. The queries run as the service runs them
(search/engine.py: the visibility filter in the query, a page of 20 with snippets).

Then the time from a committed change to it being searchable: the real indexer job
(jobs/search_indexer.py) follows the real feed in the bench's database, and the
scenario commits an item with its feed touch through the unit of work, and polls
the index until the item is found.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.runner import Harness, Outcome
from pymongo import AsyncMongoClient

from weft_resources.search import audience
from weft_resources.search.audience import SearchStanding
from weft_resources.search.documents import SearchDocument
from weft_resources.search.engine import SearchEngine
from weft_resources.search.index import LocalIndex
from weft_resources.search.query import SearchFilters
from weft_resources.storage import ResourcesStorage
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

NAME = "search"
TITLE = "search over 100,000 items"
BASELINE = False
DOCUMENTS = 100_000
COMMUNITIES = 300
QUERIES_PER_SHAPE = 300
TARGET_P95_MS = 100.0
CHANGES = 20

REAL_TEXT = (
    "care home falls prevention dementia nursing resident family carer medication review night staff "
    "ward discharge hospital community practice safety risk assessment training toolkit guide audit "
    "policy pressure ulcer nutrition hydration mobility frailty delirium wellbeing mental health "
    "support team handover record plan goal outcome evidence study report meeting learning share "
    "network visit therapy physio occupational pain palliative end life hospice respite dignity "
    "consent capacity safeguarding infection control hand hygiene vaccine flu covid isolation "
    "loneliness activity music garden exercise walking balance strength sleep continence skin"
)
SYLLABLES = [c + v for c in "bcdfghlmnprstv" for v in "aeiou"]


def vocabulary(rng: random.Random, size: int = 6_000) -> list[str]:
    made = {"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(size)}
    words = REAL_TEXT.split() + sorted(made)
    rng.shuffle(words)
    return words


class TextMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = vocabulary(rng)
        # Zipf-like weights: a few words are common, most rare (as in real text).
        self.cum_weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(self.words))))

    def words_of(self, n: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cum_weights, k=n)

    def sentence(self, n: int) -> str:
        words = self.words_of(n)
        return " ".join(words).capitalize() + "."


def generate(rng: random.Random, text: TextMaker) -> list[SearchDocument]:
    docs = []
    for n in range(DOCUMENTS):
        community = f"c{rng.randrange(COMMUNITIES)}"
        body = " ".join(text.sentence(rng.randint(6, 20)) for _ in range(rng.randint(4, 20)))
        title = " ".join(text.words_of(rng.randint(3, 8))).capitalize()
        if n % 4 == 3:  # a quarter are threads or replies
            docs.append(
                SearchDocument(
                    doc_type="thread",
                    id=f"t{n}",
                    community_id=community,
                    kind=rng.choice(["discussion", "question"]),
                    title=title,
                    label=title,
                    body=body,
                    thread_id=f"t{n}",
                    audience=audience.thread_audience(community_id=community, chatham_house=rng.random() < 0.1),
                )
            )
            continue
        status = "draft" if rng.random() < 0.05 else "archived" if rng.random() < 0.05 else "published"
        visibility = rng.choice(["community", "community", "partners", "network"])
        shared = [f"c{rng.randrange(COMMUNITIES)}"] if rng.random() < 0.05 else []
        docs.append(
            SearchDocument(
                doc_type="resource",
                id=f"r{n}",
                community_id=community,
                kind=rng.choice(["file", "link", "note"]),
                title=title,
                label=title,
                body=body,
                tags=tuple(text.words_of(rng.randint(0, 3))),
                state=status,
                audience=audience.resource_audience(
                    community_id=community,
                    visibility=visibility,
                    status=status,
                    created_by=f"u{rng.randrange(5_000)}",
                    shared_with=shared,
                ),
            )
        )
    return docs


def caller(rng: random.Random) -> SearchStanding:
    mine = rng.sample(range(COMMUNITIES), 5)
    links = {(f"c{rng.randrange(COMMUNITIES)}", f"c{rng.choice(mine)}") for _ in range(20)}
    hidden = {f"c{c}" for c in rng.sample(range(COMMUNITIES), 20)}
    return SearchStanding(
        user_id="u1",
        member_of=frozenset(f"c{c}" for c in mine),
        staff_of=frozenset({f"c{mine[0]}"}),
        resource_links=frozenset(links),
        hidden=frozenset(hidden - {f"c{c}" for c in mine}),
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def query_timings(engine: SearchEngine, queries: list[str], who: SearchStanding) -> tuple[list[float], int]:
    timings = []
    found = 0
    for q in queries:
        started = time.perf_counter()
        page = engine.search(engine.queries.parse(q), who, SearchFilters(), 20, None)
        timings.append((time.perf_counter() - started) * 1000)
        found += len(page.hits)
    return timings, found


async def change_to_searchable(h: Harness, details: list[str]) -> None:
    """Commit items with their feed touch; time until the real indexer makes each searchable."""
    from weft_resources.jobs.search_indexer import SearchIndexer

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(h.stack.database.url, tz_aware=True)
    db = client[f"weft_resources_bench_search_{secrets.token_hex(3)}"]
    storage = ResourcesStorage(db)
    await storage.create_indexes()
    uow = UnitOfWork(client, Outbox(db), MessageFactory(PlatformSettings(env="dev"), "bench"))
    await Outbox(db).create_indexes()
    with tempfile.TemporaryDirectory() as folder:
        index = LocalIndex(Path(folder))
        indexer = SearchIndexer(storage.search_feed, index)
        indexer.start()
        engine = SearchEngine(index)
        try:
            while not index.ready:  # noqa: ASYNC110 (a flag another task sets; polling it is the measurement)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the change stream is open
            who = SearchStanding("u1", frozenset({"c1"}), frozenset(), frozenset(), frozenset())
            delays = []
            for n in range(CHANGES):
                word = "zq" + secrets.token_hex(4)
                item = {
                    "_id": f"r{n}",
                    "community_id": "c1",
                    "kind": "note",
                    "title": word,
                    "status": "published",
                    "visibility": "community",
                }

                async def work(tx: Transaction, item: dict[str, Any] = item) -> None:
                    await storage.db.resources.insert_one(item, session=tx.session)
                    await storage.search_feed.touch("resource", item["_id"])

                await uow.run(work)
                committed = time.perf_counter()
                text = engine.queries.parse(word)
                while not engine.search(text, who, SearchFilters(), 1, None).hits:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                delays.append((time.perf_counter() - committed) * 1000)
            details.append(
                f"committed change → searchable ({CHANGES} items, change stream: {indexer.watching}): "
                f"p50 {statistics.median(delays):.0f} ms, max {max(delays):.0f} ms"
            )
        finally:
            await indexer.stop()
            await client.drop_database(db.name)
            await client.close()


async def run(h: Harness) -> Outcome:
    rng = random.Random(20261201)
    text = TextMaker(rng)
    details: list[str] = []
    docs = generate(rng, text)
    with tempfile.TemporaryDirectory() as folder:
        index = LocalIndex(Path(folder))
        index.open()
        started = time.perf_counter()
        for at in range(0, len(docs), 5_000):
            await asyncio.to_thread(index.add, docs[at : at + 5_000])
        await asyncio.to_thread(index.apply, [], [], None)
        built = time.perf_counter() - started
        details.append(
            f"index of {DOCUMENTS:,} documents built in {built:.1f} s "
            f"({DOCUMENTS / built:,.0f}/s), {folder_size(Path(folder)) / 1e6:.0f} MB on disk"
        )
        engine = SearchEngine(index)
        who = caller(rng)
        shapes = {
            "1 word": [" ".join(text.words_of(1)) for _ in range(QUERIES_PER_SHAPE)],
            "2 words": [" ".join(text.words_of(2)) for _ in range(QUERIES_PER_SHAPE)],
            "3 words": [" ".join(text.words_of(3)) for _ in range(QUERIES_PER_SHAPE)],
            "phrase": [],
        }
        for _ in range(QUERIES_PER_SHAPE):
            words = rng.choice(docs).body.split()
            at = rng.randrange(len(words) - 1)
            shapes["phrase"].append(f'"{words[at]} {words[at + 1]}"')
        all_timings: list[float] = []
        for shape, queries in shapes.items():
            query_timings(engine, queries[:20], who)  # warm
            timings, found = await asyncio.to_thread(query_timings, engine, queries, who)
            all_timings.extend(timings)
            details.append(
                f"{shape:>8}: p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
                f"p99 {percentile(timings, 99):.1f} ms ({found / len(queries):.1f} hits a page)"
            )
        p95 = percentile(all_timings, 95)
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        details.append(f"all queries: p95 {p95:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms: {verdict})")
        index.close()
    await change_to_searchable(h, details)
    return Outcome(NAME, TITLE, details=details)
