"""Markdown to safe HTML: the one renderer of notes, threads and replies.

Two independent layers, so a gap in one is closed by the other:
- cmark-gfm (GitHub's C implementation of CommonMark, through `cmarkgfm`) with raw HTML
  OFF (no CMARK_OPT_UNSAFE): `<script>` in the source is omitted, and `javascript:`/
  `vbscript:`/`file:`/`data:` link targets are dropped. It is linear in its input, as
  its pathological-input tests check: a Python parser (markdown-it-py) took seconds,
  and held the event loop, on a note of 50,000 `[`;
- nh3 (the Rust `ammonia` sanitizer) over the result, with an explicit allowlist of
  tags and attributes, only absolute `http`/`https`/`mailto` URLs (relative ones are
  dropped: a note has no base to resolve them against), every link given
  `rel="nofollow noopener noreferrer"`, and comments stripped.

Both are native code that releases the GIL, so `render_off_loop` runs them in a worker
thread and a long note never holds up other requests.
"""

from __future__ import annotations

import asyncio

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

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

# No CMARK_OPT_UNSAFE is the point: raw HTML in a note is left out. Tables and
# strikethrough are GitHub-style extras people write in notes.
_EXTENSIONS = ["table", "strikethrough"]
_OPTIONS = Options.CMARK_OPT_VALIDATE_UTF8
_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Whatever such a tag held is dropped with it, not shown as stray text.
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    url_relative="deny",
    strip_comments=True,
)


def render(markdown: str) -> str:
    """The sanitized HTML of `markdown` (safe to serve inside a page as it is)."""
    return sanitize(cmarkgfm.markdown_to_html_with_extensions(markdown, options=_OPTIONS, extensions=_EXTENSIONS))


async def render_off_loop(markdown: str) -> str:
    """`render` in a worker thread: what request handlers call."""
    return await asyncio.to_thread(render, markdown)


def sanitize(html: str) -> str:
    """The second layer alone: `html` reduced to the allowlist (tested with raw HTML payloads)."""
    return _cleaner.clean(html)
