"""The Markdown documents render as written: no code fence left open, none swallowing a heading.

A fence opened by a stray line (say "``` The whole API is documented at") runs to the end
of the document under CommonMark, and everything after it renders as code.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [
        *(ROOT / name for name in ("README.md", "CONTRIBUTING.md") if (ROOT / name).is_file()),
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "services").glob("*/README.md"),
    ]
)
# Level 2 and below: a single "#" inside a fence is usually a shell comment.
HEADING = re.compile(r"^#{2,6} \S")


def fence_problems(text: str) -> list[str]:
    """What is wrong with the document's fenced code blocks, one line per problem."""
    lines = text.splitlines()
    problems = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map  # lines [start, end) hold the fence and its closing line
        closing = lines[end - 1].strip() if end - 1 > start else ""
        if not (closing.startswith(token.markup) and set(closing) == {token.markup[0]}):
            problems.append(f"line {start + 1}: the fence opened here is never closed (it runs to line {end})")
        inside = range(start + 1, end - 1)
        # A fence line with text after it ("``` The whole API ...") closes nothing: the fence runs on.
        strays = [n + 1 for n in inside if lines[n].lstrip().startswith(token.markup[0] * 3)]
        if strays:
            problems.append(f"line {start + 1}: the fence holds fence lines that close nothing, lines {strays}")
        swallowed = [n + 1 for n in inside if HEADING.match(lines[n])]
        if swallowed and token.info.strip() not in {"markdown", "md"}:
            problems.append(f"line {start + 1}: the fence holds what reads as headings, lines {swallowed}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_fences_are_closed_and_hold_no_headings(document: Path) -> None:
    assert fence_problems(document.read_text(encoding="utf-8")) == []


def test_the_check_finds_an_open_fence_and_a_swallowed_heading() -> None:
    broken = "# Title\n\n```sh\nmake run\n``` The whole API is documented at\n\n## Configuration\n\ntext\n"
    problems = fence_problems(broken)
    assert any("never closed" in problem for problem in problems)
    assert any("headings, lines [7]" in problem for problem in problems)
    assert fence_problems("# Title\n\n```sh\nmake run\n```\n\n## Next\n") == []
