"""Steps the community page tests share: people signed in through the browser who also act
through the API (for set-up), and reading a page's main content."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from playwright.async_api import Page

from tests.support.api import Person
from tests.support.web_pages import sign_in
from weft_web.auth.dev_people import dev_subject


@dataclass(frozen=True)
class Browsing:
    """One person, signed in on `page`, and the same person for API calls."""

    page: Page
    person: Person


def unique(label: str) -> str:
    return f"{label}-{secrets.token_hex(3)}"


async def signed_in(page: Page, name: str) -> Browsing:
    email = f"{unique(name.lower().replace(' ', '.'))}@example.org"
    await sign_in(page, name, email)
    return Browsing(page, Person(user_id=dev_subject(email), email=email, name=name))


async def main_text(page: Page) -> str:
    return await page.locator("main").inner_text()


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways on a 360 px screen ({width} px)"
