"""One search: the query, a page of hits in rank order, their snippets.

Pages are keyed on the last hit's (score, key): the next page is the hits that
rank after it. Scores move a little as the index changes (BM25 counts the
documents), so a page may repeat or skip a hit that moved across the boundary
between two requests; nothing it shows is ever one the caller may not see,
since every page is a fresh query with the caller's current standing.
Ranked results go `MAX_DEPTH` deep, as most search engines' do."""

from __future__ import annotations

from dataclasses import dataclass

from weft_resources.search.audience import SearchStanding
from weft_resources.search.index import Hit, LocalIndex
from weft_resources.search.query import ParsedText, QueryBuilder, SearchFilters
from weft_resources.search.snippets import Snippets

MAX_DEPTH = 1_000
# Hits fetched beyond the page, so hits that moved up a little since the last page are still skipped.
SLACK = 20


@dataclass(frozen=True, slots=True)
class PageKey:
    score: float
    key: str
    offset: int  # how many hits the earlier pages showed


@dataclass(frozen=True, slots=True)
class FoundHit:
    hit: Hit
    snippet: str


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[FoundHit]
    next_key: PageKey | None


def _rank(hit: Hit) -> tuple[float, str]:
    return (-hit.score, hit.key)


class SearchEngine:
    def __init__(self, index: LocalIndex) -> None:
        self.index = index
        self.queries = QueryBuilder(index.schema)

    def search(
        self, text: ParsedText, standing: SearchStanding, filters: SearchFilters, limit: int, after: PageKey | None
    ) -> SearchPage:
        offset = after.offset if after else 0
        if offset >= MAX_DEPTH:
            return SearchPage(hits=[], next_key=None)
        query = self.queries.build(text, standing, filters)
        searcher = self.index.searcher()
        fetched = self.index.search(query, offset + limit + 1 + (SLACK if after else 0), searcher)
        ranked = sorted(fetched, key=_rank)
        if after is not None:
            ranked = [h for h in ranked if _rank(h) > (-after.score, after.key)]
        page = ranked[:limit]
        more = len(ranked) > limit and offset + len(page) < MAX_DEPTH
        snippets = Snippets(searcher, self.queries.text_query(text), self.index.schema)
        found = [FoundHit(hit=h, snippet=snippets.of(h.display.get("preview", ""))) for h in page]
        next_key = PageKey(score=page[-1].score, key=page[-1].key, offset=offset + len(page)) if more else None
        return SearchPage(hits=found, next_key=next_key)
