"""HTML from the API that a page shows as HTML: a note's rendering, search snippets.

The API already sanitises both (nh3 on the note; snippets escape all but `<mark>`). The page
does not take that on trust: a note is cleaned again with nh3's allowlist, and a snippet is
rebuilt from its text with only `<mark>` kept, so a bug upstream cannot become script here.
"""

from __future__ import annotations

import html
import re

import nh3
from markupsafe import Markup, escape

_MARK = re.compile(r"(</?mark>)")


def note_html(value: str | None) -> Markup:
    if not value:
        return Markup("")
    cleaned = nh3.clean(value, url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer")
    return Markup(cleaned)  # noqa: S704 (cleaned by nh3 just above)


def snippet_html(value: str) -> Markup:
    """Only `<mark>` and `</mark>` survive; every other character is escaped again."""
    out: list[str] = []
    open_mark = False
    for piece in _MARK.split(value):
        if piece == "<mark>" and not open_mark:
            out.append(piece)
            open_mark = True
        elif piece == "</mark>" and open_mark:
            out.append(piece)
            open_mark = False
        elif piece not in ("<mark>", "</mark>"):
            out.append(str(escape(html.unescape(piece))))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))  # noqa: S704 (escaped piece by piece above)
