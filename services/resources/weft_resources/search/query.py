"""From what the caller typed and may see to one tantivy query.

The text is parsed here, never by tantivy's query parser: a caller's `q` is words
and "quoted phrases", nothing else, so no field syntax (`audience:net`) or
operator in it can reach the index. Every word must match (in the title or the
body, the title weighing more); a phrase must match as a phrase in one of them.
The visibility filter and the caller's filters score nothing, so ranking is
BM25 over the words alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

import tantivy

from weft_resources.search import schema
from weft_resources.search.audience import SearchStanding, caller_tokens
from weft_resources.search.documents import normal_tag

MAX_TERMS = 32
_PHRASE = re.compile(r'"([^"]*)"')


@dataclass(frozen=True, slots=True)
class ParsedText:
    words: tuple[str, ...]  # analysed terms
    phrases: tuple[tuple[str, ...], ...]  # analysed terms of each phrase (two or more)

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases

    @property
    def size(self) -> int:
        return len(self.words) + sum(len(p) for p in self.phrases)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    community_id: str | None = None
    kind: str | None = None
    tag: str | None = None
    include_archived: bool = False


class QueryBuilder:
    def __init__(self, tantivy_schema: tantivy.Schema) -> None:
        self._schema = tantivy_schema
        self._analyzer = schema.query_analyzer()

    def parse(self, text: str) -> ParsedText:
        phrases: list[tuple[str, ...]] = []
        words: list[str] = []
        for quoted in _PHRASE.findall(text):
            terms = tuple(self._analyzer.analyze(quoted))
            if len(terms) > 1:
                phrases.append(terms)
            else:
                words.extend(terms)
        # What is left outside quotes (an unmatched quote counts as a space).
        words.extend(self._analyzer.analyze(_PHRASE.sub(" ", text).replace('"', " ")))
        return ParsedText(words=tuple(dict.fromkeys(words)), phrases=tuple(dict.fromkeys(phrases)))

    def build(self, text: ParsedText, standing: SearchStanding, filters: SearchFilters) -> tantivy.Query:
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for word in text.words:
            clauses.append((tantivy.Occur.Must, self._either_field(word=word)))
        for phrase in text.phrases:
            clauses.append((tantivy.Occur.Must, self._either_field(phrase=phrase)))
        for clause in self._filters(standing, filters):
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(clause, 0.0)))
        excluded = standing.excluded_communities
        if excluded:
            clauses.append((tantivy.Occur.MustNot, self._any_of(schema.COMMUNITY, excluded)))
        if not filters.include_archived:
            clauses.append((tantivy.Occur.MustNot, self._term(schema.STATE, "archived")))
        return tantivy.Query.boolean_query(clauses)

    def text_query(self, text: ParsedText) -> tantivy.Query:
        """The words alone: what the snippets mark."""
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, self._either_field(word=w)) for w in text.words]
            + [(tantivy.Occur.Should, self._either_field(phrase=p)) for p in text.phrases]
        )

    def _filters(self, standing: SearchStanding, filters: SearchFilters) -> list[tantivy.Query]:
        found = [self._any_of(schema.AUDIENCE, caller_tokens(standing))]
        if filters.community_id is not None:
            found.append(self._term(schema.COMMUNITY, filters.community_id))
        if filters.kind is not None:
            found.append(self._term(schema.KIND, filters.kind))
        if filters.tag is not None:
            found.append(self._term(schema.TAGS, normal_tag(filters.tag)))
        return found

    def _either_field(self, *, word: str | None = None, phrase: tuple[str, ...] | None = None) -> tantivy.Query:
        def on(field: str) -> tantivy.Query:
            if phrase is not None:
                return tantivy.Query.phrase_query(self._schema, field, list(phrase))
            return tantivy.Query.term_query(self._schema, field, word)

        title = tantivy.Query.boost_query(on(schema.TITLE), schema.TITLE_BOOST)
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, title), (tantivy.Occur.Should, on(schema.BODY))])

    def _term(self, field: str, value: str) -> tantivy.Query:
        return tantivy.Query.term_query(self._schema, field, value)

    def _any_of(self, field: str, values: frozenset[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self._schema, field, sorted(values))
