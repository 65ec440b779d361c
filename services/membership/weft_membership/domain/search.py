"""Slugs and search terms, derived from names and descriptions."""

from __future__ import annotations

import re
import unicodedata

from weft_shared.errors import Problem

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_WORD = re.compile(r"[\w]+", re.UNICODE)
MIN_TERM = 2
MAX_TERM = 20


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "community"


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def search_terms(*texts: str) -> list[str]:
    """Edge n-grams of every word, so 'nurs' finds 'nursing' through a plain
    multikey index (search proper is its own concern; no text index needed)."""
    terms: set[str] = set()
    for text in texts:
        for word in words(text):
            word = word[:MAX_TERM]
            terms.update(word[:n] for n in range(MIN_TERM, len(word) + 1))
    return sorted(terms)


def query_terms(q: str) -> list[str]:
    """The terms a search looks up. A blank `q` searches nothing (the whole list, as with
    no `q`); one with nothing searchable left (`.*`, a NUL, one letter) is refused: matching
    everything would answer a question that was not asked, and matching nothing would
    say "no such community" when the question could not be read."""
    terms = sorted({w[:MAX_TERM] for w in words(q) if len(w) >= MIN_TERM})
    if not terms and q.strip():
        message = f"search for a word of at least {MIN_TERM} letters or digits"
        raise Problem(
            f"q has nothing to search for: {message}", status=422, errors=[{"field": "q", "message": message}]
        )
    return terms
