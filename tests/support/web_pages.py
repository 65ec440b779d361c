"""Steps browser tests share: signing in on the dev sign-in page, reading what a page says."""

from __future__ import annotations

from playwright.async_api import Page


async def sign_in(page: Page, name: str, email: str, *, next_path: str = "/") -> None:
    """Through the dev sign-in form, as a person would (a new person, or the same one again)."""
    await page.goto(f"/sign-in?next={next_path}")
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Sign in", exact=True).last.click()
    # With hx-boost the POST is an XHR: "network idle" can come before it lands, and a goto
    # then would find the browser still signed out. Wait until it has left the sign-in page.
    await page.wait_for_url(lambda url: "/sign-in" not in url)
    await page.wait_for_load_state("networkidle")
