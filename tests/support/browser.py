"""Debian's Chromium driven by Playwright, and axe-core run inside the page.

Playwright's own browser download cannot work here (the machines are offline), so the
browser is the system's `chromium` package (`.ci/run` installs it), launched with the flags
that keep it from calling home.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from axe_playwright_python import async_playwright as axe_module
from playwright.async_api import Page

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
]
# WCAG 2.2 AA, and everything below it.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_SOURCE = (Path(axe_module.__file__).parent / "axe.min.js").read_text()
SCREENSHOTS = Path(os.environ.get("WEFT_SCREENSHOT_DIR", "test-output/screenshots"))
PHONE = {"width": 360, "height": 740}


def chromium_path() -> str:
    found = os.environ.get("WEFT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("browser tests need Debian's chromium: apt-get install -y chromium (.ci/run does)")
    return found


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str | None
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.rule} ({self.impact}): {self.help} at {', '.join(self.targets[:5])}"


async def axe_violations(page: Page) -> list[AxeViolation]:
    """axe-core's WCAG 2.2 AA violations on the page as it is now (evaluated past the CSP).

    Only in a context with JavaScript on: with it off, `axe.run` never settles (its timers
    don't run), so no-JavaScript tests check their flows and audit the same pages with it on.
    """
    await page.evaluate(AXE_SOURCE)
    result: dict[str, Any] = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        AxeViolation(
            rule=v["id"],
            impact=v.get("impact"),
            help=v["help"],
            targets=[" ".join(map(str, node["target"])) for node in v["nodes"]],
        )
        for v in result["violations"]
    ]


async def assert_accessible(page: Page, name: str) -> None:
    """0 axe violations, and a screenshot of the page as checked (test-output/screenshots/NAME.png).

    First waits until no htmx request is in flight: a click that navigates (boosted) returns
    before the new page is in, and axe must check the page the person ends up on.
    """
    # Polled from here: wait_for_function's string predicates are eval'd, which the CSP refuses.
    for _ in range(150):
        if not await page.evaluate("() => !!document.querySelector('.htmx-request')"):
            break
        await asyncio.sleep(0.1)
    await page.wait_for_load_state()
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    violations = await axe_violations(page)
    assert not violations, f"{name}: axe found {len(violations)} WCAG 2.2 AA violation(s):\n" + "\n".join(
        f"  - {v}" for v in violations
    )
