"""Slugs and search terms, derived from names and descriptions."""

from __future__ import annotations

import re
import unicodedata

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
    return sorted({w[:MAX_TERM] for w in words(q) if len(w) >= MIN_TERM})
