"""Markdown to safe HTML: the one renderer of notes, threads and replies.

Two independent layers, so a gap in one is closed by the other:
- markdown-it-py in CommonMark mode with raw HTML OFF: `<script>` in the source is
  text, never markup, and its link validator drops `javascript:`/`vbscript:`/`file:`/
  `data:` targets;
- nh3 (the Rust `ammonia` sanitizer) over the result, with an explicit allowlist of
  tags and attributes, only `http`/`https`/`mailto` URLs (relative ones stay), every
  link given `rel="nofollow noopener noreferrer"`, and comments stripped.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"

# `html: False` is the point: raw HTML in a note is shown as text. Tables and
# strikethrough are GitHub-style extras people write in notes.
_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Whatever such a tag held is dropped with it, not shown as stray text.
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)


def render(markdown: str) -> str:
    """The sanitized HTML of `markdown` (safe to serve inside a page as it is)."""
    return sanitize(_parser.render(markdown))


def sanitize(html: str) -> str:
    """The second layer alone: `html` reduced to the allowlist (tested with raw HTML payloads)."""
    return _cleaner.clean(html)
