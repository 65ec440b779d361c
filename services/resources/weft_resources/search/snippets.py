"""Snippets: the passage of a hit's text that best matches the words, as HTML in
which only the matched words are markup (`<mark>`) and everything else is escaped."""

from __future__ import annotations

import html

import tantivy

from weft_resources.search import schema

SNIPPET_CHARS = 240


class Snippets:
    def __init__(self, searcher: tantivy.Searcher, text_query: tantivy.Query, tantivy_schema: tantivy.Schema) -> None:
        self._generator = tantivy.SnippetGenerator.create(searcher, text_query, tantivy_schema, schema.BODY)
        self._generator.set_max_num_chars(SNIPPET_CHARS)

    def of(self, preview: str) -> str:
        snippet = self._generator.snippet_from_doc(tantivy.Document(**{schema.BODY: preview}))
        fragment = snippet.fragment()
        if not fragment:
            # No word of the query in the text (a title match): its opening instead.
            return html.escape(_opening(preview), quote=False)
        return marked(fragment, [(r.start, r.end) for r in snippet.highlighted()])


def marked(fragment: str, ranges: list[tuple[int, int]]) -> str:
    """`fragment` escaped, with each byte range (tantivy counts UTF-8 bytes) in `<mark>`."""
    raw = fragment.encode()
    out: list[str] = []
    at = 0
    for start, end in sorted(ranges):
        if start < at:
            continue
        out.append(html.escape(raw[at:start].decode(errors="replace"), quote=False))
        out.append("<mark>" + html.escape(raw[start:end].decode(errors="replace"), quote=False) + "</mark>")
        at = end
    out.append(html.escape(raw[at:].decode(errors="replace"), quote=False))
    return "".join(out)


def _opening(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, SNIPPET_CHARS)
    return text[: cut if cut > 0 else SNIPPET_CHARS] + "…"
