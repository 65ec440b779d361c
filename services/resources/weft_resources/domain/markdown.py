"""Markdown to safe HTML, the one renderer of the service (notes, posts, replies).

markdown-it-py in CommonMark mode with raw HTML off, then nh3 with an explicit
allowlist: whatever the source says, only these tags and attributes survive, links
get rel="nofollow noopener noreferrer" and only http, https and mailto URLs stay.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False})

TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "img", "li", "ol", "p", "pre", "strong", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render(markdown: str) -> str:
    return nh3.clean(
        _PARSER.render(markdown),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
