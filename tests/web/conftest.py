"""Web app tests: the real `weft web` process in front of the session's real gateway and
services; browser tests drive it with Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.conftest import StartService
from tests.support.browser import CHROMIUM_FLAGS, chromium_path
from weft_cli.testing import ServiceProcess


@pytest.fixture(scope="session")
def web_service(start_session_service: StartService, gateway_service: ServiceProcess) -> ServiceProcess:
    return start_session_service("web", env={"WEFT_WEB_GATEWAY_URL": gateway_service.url})


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    # Playwright's launch gives the browser a new, empty profile folder of its own each time.
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            await browser.close()


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser, web_service: ServiceProcess) -> AsyncIterator[NewPage]:
    """new_page(viewport=None, javascript=True): a page in a fresh context (its own cookies)."""
    contexts: list[BrowserContext] = []

    async def make(*, viewport: dict[str, int] | None = None, javascript: bool = True) -> Page:
        context = await browser.new_context(
            base_url=web_service.url,
            viewport=viewport or {"width": 1280, "height": 900},
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return await context.new_page()

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


@pytest.fixture
async def web_http(web_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client of the web app, as a browser without JavaScript would be (its own cookies)."""
    async with httpx.AsyncClient(base_url=web_service.url, timeout=30, follow_redirects=False) as http:
        yield http
