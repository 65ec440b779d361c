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
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page
from pymongo import AsyncMongoClient

from tests.support.browser import PHONE, assert_accessible
from tests.support.oidc_provider import OidcAccount, OidcProvider, start_oidc_provider, walk_to_callback
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
    await page.get_by_role("link", name=community["name"]).first.wait_for()
    await assert_accessible(page, "oidc-home-signed-in")

    tokens = await _session_tokens(oidc_stack)
    # Each page load refreshes the 30 s token (rotating refresh tokens): still signed in, new tokens.
    for _ in range(3):
        await page.reload()
        await page.get_by_role("link", name=community["name"]).first.wait_for()
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


@pytest.fixture
async def browsers(oidc_stack: OidcStack) -> AsyncIterator[Any]:
    """browsers(): a new plain client of the OIDC web app with its own cookie jar, as a browser."""
    clients: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=oidc_stack.web.url, timeout=30, follow_redirects=False)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            await client.aclose()


async def assert_start_again(response: httpx.Response, browser: httpx.AsyncClient) -> None:
    """The readable "start again" page, and this browser is not signed in."""
    assert response.status_code == 400, response.text
    assert START_AGAIN in response.text and "Traceback" not in response.text
    home = await browser.get("/")
    assert home.status_code == 200 and "Hello," not in home.text and "Sign out" not in home.text


async def test_a_replayed_callback_signs_no_one_in(oidc_stack: OidcStack, browsers: Any) -> None:
    mine, theirs = browsers(), browsers()
    callback = await walk_to_callback(mine, oidc_stack.provider.accounts[1])
    signed_in = await mine.get(callback)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    assert "Hello, Ben Oidc" in (await mine.get("/")).text
    await assert_start_again(await theirs.get(callback), theirs)
    again = await mine.get(callback)
    assert again.status_code == 400 and START_AGAIN in again.text


async def test_a_callback_opened_in_another_browser_is_refused_and_spoils_nothing(
    oidc_stack: OidcStack, browsers: Any
) -> None:
    mine, theirs = browsers(), browsers()
    callback = await walk_to_callback(mine, oidc_stack.provider.accounts[2])
    await assert_start_again(await theirs.get(callback), theirs)
    # The attempt still belongs to the browser that started it.
    assert (await mine.get(callback)).status_code == 303
    assert "Hello, Cleo Oidc" in (await mine.get("/")).text


async def test_a_callback_with_another_state_or_issuer_or_code_is_refused(oidc_stack: OidcStack, browsers: Any) -> None:
    browser = browsers()
    cleo = oidc_stack.provider.accounts[2]
    first = parse_qs(urlsplit(await walk_to_callback(browser, cleo)).query)
    second = parse_qs(urlsplit(await walk_to_callback(browser, cleo)).query)
    iss = oidc_stack.provider.issuer
    # A state this app never made.
    forged = {"code": first["code"][0], "state": secrets.token_urlsafe(32), "iss": iss}
    await assert_start_again(await browser.get("/sign-in/callback", params=forged), browser)
    # A code from another sign-in (code injection): PKCE makes the provider refuse it.
    injected = {"code": first["code"][0], "state": second["state"][0], "iss": iss}
    await assert_start_again(await browser.get("/sign-in/callback", params=injected), browser)
    # A response that names another provider (a mix-up, RFC 9207).
    mixed_up = {"code": first["code"][0], "state": first["state"][0], "iss": "https://idp.evil.example"}
    await assert_start_again(await browser.get("/sign-in/callback", params=mixed_up), browser)
    # No code at all, or the provider's own refusal.
    await assert_start_again(await browser.get("/sign-in/callback", params={"state": "x"}), browser)
    refused = {"error": "access_denied", "state": second["state"][0]}
    await assert_start_again(await browser.get("/sign-in/callback", params=refused), browser)


@pytest.mark.parametrize("tampered", ["https://evil.example/steal", "//evil.example/steal", "/\\evil.example"])
async def test_a_tampered_next_lands_at_home(oidc_stack: OidcStack, browsers: Any, tampered: str) -> None:
    browser = browsers()
    callback = await walk_to_callback(browser, oidc_stack.provider.accounts[3], next_path=tampered)
    signed_in = await browser.get(callback)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"


async def test_next_is_kept_through_the_provider(oidc_stack: OidcStack, browsers: Any) -> None:
    browser = browsers()
    callback = await walk_to_callback(browser, oidc_stack.provider.accounts[3], next_path="/communities?q=falls")
    signed_in = await browser.get(callback)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/communities?q=falls"


async def test_the_cookie_keeps_the_tokens_from_pages_and_scripts_and_sign_out_ends_both_sessions(
    browser_context: Any, oidc_stack: OidcStack
) -> None:
    eve = oidc_stack.provider.accounts[4]
    context = await browser_context()
    page = await context.new_page()
    callbacks: list[str] = []
    page.on("request", lambda request: callbacks.append(request.url) if "/sign-in/callback" in request.url else None)
    await sign_in_with_oidc(page, eve)
    await page.get_by_role("heading", name=f"Hello, {eve.name}").wait_for()

    cookies = {cookie["name"]: cookie for cookie in await context.cookies(oidc_stack.web.url)}
    session_cookie = cookies["weft_session"]
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"
    access_token, refresh_token = await _session_tokens(oidc_stack)
    readable = await page.evaluate("document.cookie")
    html = await page.content()
    for secret in (access_token, refresh_token, session_cookie["value"]):
        assert secret not in readable and secret not in html
    assert "weft_session" not in readable

    # A replayed callback in the same browser, signed in or not, starts nothing.
    assert len(callbacks) == 1
    await page.goto(callbacks[0])
    await page.get_by_text(START_AGAIN).wait_for()
    await assert_accessible(page, "oidc-start-again")

    await page.goto("/")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("button", name="Yes, sign me out").click()
    await page.wait_for_url(f"{oidc_stack.web.url}/")
    await page.get_by_role("link", name="Sign in").first.wait_for()
    assert "Hello," not in await page.content()
    # The provider's session has ended too: signing in again asks for the login.
    await page.goto("/sign-in")
    await page.get_by_role("link", name=SIGN_IN_BUTTON).click()
    await page.get_by_placeholder("Enter any login").wait_for()


async def test_cancelling_at_the_provider_shows_start_again(browser_context: Any, oidc_stack: OidcStack) -> None:
    context = await browser_context()
    page = await context.new_page()
    await page.goto("/sign-in")
    await page.get_by_role("link", name=SIGN_IN_BUTTON).click()
    await page.get_by_role("link", name="[ Cancel ]").click()
    await page.get_by_text(START_AGAIN).wait_for()
    assert "access_denied" not in await page.content()
    await assert_accessible(page, "oidc-cancelled")


async def test_signing_in_by_keyboard_on_a_phone_without_javascript(
    browser_context: Any, oidc_stack: OidcStack
) -> None:
    context = await browser_context(viewport=PHONE, javascript=False)
    page = await context.new_page()
    await page.goto("/sign-in")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the sign-in page scrolls sideways on a 360 px screen ({width} px)"
    fay = oidc_stack.provider.accounts[5]
    await page.get_by_role("link", name=SIGN_IN_BUTTON).focus()
    await page.keyboard.press("Enter")
    await page.get_by_placeholder("Enter any login").fill(fay.sub)
    await page.get_by_placeholder("and password").fill("any password")
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="Continue").focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name=f"Hello, {fay.name}").wait_for()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the home page scrolls sideways on a 360 px screen ({width} px)"
