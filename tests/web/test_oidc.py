"""OIDC sign-in against a real provider (panva's oidc-provider, tools/oidc-provider).

One stack for the module: the provider, then membership, events, notifications, resources
and the gateway trusting its JWKS (audience `weft`), then a web app that signs in with it.
The provider's access tokens live 30 s, under the web app's 60 s refresh margin, so every
page a signed-in person loads refreshes the token first: refresh is on every path here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from pymongo import AsyncMongoClient

from tests.support.browser import PHONE, assert_accessible
from tests.support.oidc_provider import OidcAccount, OidcProvider, start_oidc_provider
from tests.support.smtp import SmtpServer
from weft_cli.procs import free_port
from weft_cli.testing import ServiceLauncher, ServiceProcess
from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings

pytestmark = pytest.mark.timeout(300)

CLIENT_ID = "weft-web-test"
ACCESS_TOKEN_TTL = 30
SIGN_IN_BUTTON = "Sign in with your organisation account"
START_AGAIN = "Please start signing in again."
LOOPBACK = re.compile(r"^https?://127\.0\.0\.1[:/]")


@dataclass
class OidcStack:
    provider: OidcProvider
    web: ServiceProcess
    gateway: ServiceProcess
    web_database: str
    mongodb_url: str

    def dev_headers(self, sub: str, name: str, email: str) -> dict[str, str]:
        """Setup calls: in dev the API also takes HS256 dev tokens, here under the provider's issuer."""
        settings = PlatformSettings(env="dev", auth_issuer=self.provider.issuer)
        return {"Authorization": "Bearer " + issue_dev_token(settings, sub, name=name, email=email)}


@pytest.fixture(scope="module")
def oidc_stack(platform_env: dict[str, str], session_smtp: SmtpServer) -> Iterator[OidcStack]:
    suffix = secrets.token_hex(3)
    accounts = [
        OidcAccount(f"oidc-{name}-{suffix}", f"{name.title()} Oidc", f"{name}.{suffix}@example.org")
        for name in ("ana", "ben", "cleo", "dev", "eve", "fay")
    ]
    web_port = free_port()
    web_url = f"http://127.0.0.1:{web_port}"
    provider = start_oidc_provider(
        client_id=CLIENT_ID,
        redirect_uri=f"{web_url}/sign-in/callback",
        post_logout_uri=f"{web_url}/",
        accounts=accounts,
        access_token_ttl=ACCESS_TOKEN_TTL,
    )
    trust = {"WEFT_AUTH_JWKS_URL": provider.jwks_url, "WEFT_AUTH_ISSUER": provider.issuer, "WEFT_AUTH_AUDIENCE": "weft"}
    launcher = ServiceLauncher({**platform_env, **trust})
    web_database = f"weft_web_oidc_{suffix}"
    try:
        backends = {
            name: launcher.start(name, env)
            for name, env in (
                ("membership", {}),
                ("events", {}),
                (
                    "notifications",
                    {
                        "WEFT_NOTIFICATIONS_SMTP_HOST": session_smtp.host,
                        "WEFT_NOTIFICATIONS_SMTP_PORT": str(session_smtp.port),
                    },
                ),
                ("resources", {}),
            )
        }
        gateway = launcher.start(
            "gateway", {f"WEFT_GATEWAY_{name.upper()}_URL": service.url for name, service in backends.items()}
        )
        web = launcher.start(
            "web",
            {
                "WEFT_WEB_GATEWAY_URL": gateway.url,
                "WEFT_WEB_PUBLIC_URL": web_url,
                "WEFT_WEB_DATABASE": web_database,
                "WEFT_WEB_OIDC_ISSUER": provider.issuer,
                "WEFT_WEB_OIDC_CLIENT_ID": CLIENT_ID,
                "WEFT_WEB_OIDC_ALLOW_HTTP": "true",
            },
            port=web_port,
        )
        yield OidcStack(provider, web, gateway, web_database, platform_env["MONGODB_URL"])
    finally:
        launcher.stop_all()
        provider.stop()


@pytest.fixture
async def browser_context(browser: Browser, oidc_stack: OidcStack) -> AsyncIterator[Any]:
    """new_context(viewport=None, javascript=True): a fresh cookie jar on the OIDC web app."""
    contexts: list[BrowserContext] = []

    async def make(*, viewport: dict[str, int] | None = None, javascript: bool = True) -> BrowserContext:
        context = await browser.new_context(
            base_url=oidc_stack.web.url,
            viewport=viewport or {"width": 1280, "height": 900},
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        # Only loopback: nothing a page links to may leave this machine.
        await context.route(lambda url: not LOOPBACK.match(url), lambda route: route.abort())
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            await context.close()


async def provider_sign_in(page: Page, account: OidcAccount) -> None:
    """On the provider's own pages: type a login (any password), then consent if asked."""
    await page.get_by_placeholder("Enter any login").fill(account.sub)
    await page.get_by_placeholder("and password").fill("any password")
    await page.get_by_role("button", name="Sign-in").click()
    await page.wait_for_load_state()
    consent = page.get_by_role("button", name="Continue")
    if await consent.count():
        await consent.click()
    await page.wait_for_load_state("networkidle")


async def sign_in_with_oidc(page: Page, account: OidcAccount, *, next_path: str = "/") -> None:
    await page.goto(f"/sign-in?next={next_path}")
    await page.get_by_role("link", name=SIGN_IN_BUTTON).click()
    await provider_sign_in(page, account)


async def test_signing_in_with_the_provider_shows_the_api_data_and_keeps_refreshing(
    browser_context: Any, oidc_stack: OidcStack
) -> None:
    ana = oidc_stack.provider.accounts[0]
    # Setup through the API: a community Ana is in (dev tokens for her sub, see dev_headers).
    async with httpx.AsyncClient(base_url=oidc_stack.gateway.url, timeout=30) as api:
        owner = f"owner-{secrets.token_hex(3)}"
        created = await api.post(
            "/v1/communities",
            json={"name": f"Falls prevention {secrets.token_hex(2)}", "purpose": "Share good practice"},
            headers=oidc_stack.dev_headers(owner, "Owner", f"{owner}@example.org"),
        )
        assert created.status_code == 201, created.text
        community = created.json()
        joined = await api.post(
            f"/v1/communities/{community['id']}/members", headers=oidc_stack.dev_headers(ana.sub, ana.name, ana.email)
        )
        assert joined.status_code in (200, 201), joined.text

    context = await browser_context()
    page = await context.new_page()
    await page.goto("/sign-in")
    await assert_accessible(page, "oidc-sign-in")
    await page.get_by_role("link", name=SIGN_IN_BUTTON).click()
    assert page.url.startswith(oidc_stack.provider.issuer), page.url
    await provider_sign_in(page, ana)
    assert page.url.startswith(oidc_stack.web.url), page.url
    await page.get_by_role("heading", name=f"Hello, {ana.name}").wait_for()
    await page.get_by_role("link", name=community["name"]).wait_for()
    await assert_accessible(page, "oidc-home-signed-in")

    tokens = await _session_tokens(oidc_stack)
    # Each page load refreshes the 30 s token (rotating refresh tokens): still signed in, new tokens.
    for _ in range(3):
        await page.reload()
        await page.get_by_role("link", name=community["name"]).wait_for()
    refreshed = await _session_tokens(oidc_stack)
    assert refreshed[0] != tokens[0] and refreshed[1] != tokens[1]


async def _session_tokens(stack: OidcStack) -> tuple[str, str]:
    """The newest session's access and refresh tokens, read from the web app's own database."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url)
    try:
        doc = await client[stack.web_database]["sessions"].find_one(sort=[("created_at", -1)])
    finally:
        await client.close()
    assert doc is not None
    return doc["access_token"], doc["refresh_token"]
