"""The page shell: sign-in and out, security headers, CSRF, error pages, accessibility."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.browser import PHONE, assert_accessible
from tests.support.web_pages import sign_in
from tests.web.conftest import NewPage

pytestmark = pytest.mark.timeout(180)


async def test_pages_carry_a_strict_csp_and_no_store(web_http: httpx.AsyncClient) -> None:
    response = await web_http.get("/")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "<script>" not in response.text and " style=" not in response.text


async def test_a_form_without_this_browsers_csrf_token_is_refused(web_http: httpx.AsyncClient) -> None:
    page = await web_http.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    refused = await web_http.post("/sign-in/dev", data={"name": "Mallory", "email": "m@example.org"})
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    # Another browser's token is no good either.
    async with httpx.AsyncClient(base_url=str(web_http.base_url)) as other:
        stolen = await other.post(
            "/sign-in/dev", data={"name": "Mallory", "email": "m@example.org", "csrf_token": token.group(1)}
        )
    assert stolen.status_code == 403
    accepted = await web_http.post(
        "/sign-in/dev", data={"name": "Mallory", "email": "m@example.org", "csrf_token": token.group(1)}
    )
    assert accepted.status_code == 303
    # Signing in gives the browser a new cookie: the one known before is worth nothing now.
    assert "weft_session=" in accepted.headers["set-cookie"]


async def test_the_dev_sign_in_names_each_bad_field(web_http: httpx.AsyncClient) -> None:
    page = await web_http.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = await web_http.post("/sign-in/dev", data={"name": "", "email": "nope", "csrf_token": token.group(1)})
    assert response.status_code == 422
    assert 'id="error-name"' in response.text and 'id="error-email"' in response.text
    assert 'aria-invalid="true"' in response.text


async def test_an_unknown_page_is_a_readable_404(web_http: httpx.AsyncClient) -> None:
    response = await web_http.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "Traceback" not in response.text


async def test_next_never_leaves_the_app(web_http: httpx.AsyncClient) -> None:
    page = await web_http.get("/sign-in?next=//evil.example/x")
    assert "//evil.example" not in page.text


async def test_sign_in_home_and_sign_out_in_a_browser(new_page: NewPage) -> None:
    page = await new_page()
    await page.goto("/")
    await assert_accessible(page, "welcome")
    await page.goto("/sign-in")
    await assert_accessible(page, "sign-in")
    await page.get_by_role("button", name="Sign in", exact=True).last.click()
    await page.wait_for_load_state("networkidle")
    await assert_accessible(page, "sign-in-errors")
    await sign_in(page, "Ana Nurse", "ana.shell@example.org")
    await page.get_by_role("heading", name="Hello, Ana Nurse").wait_for()
    await assert_accessible(page, "home-empty")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_text("You have signed out.").wait_for()


async def test_the_shell_works_on_a_phone_without_javascript(new_page: NewPage) -> None:
    page = await new_page(viewport=PHONE, javascript=False)
    await sign_in(page, "Ben Carer", "ben.shell@example.org")
    await page.get_by_role("heading", name="Hello, Ben Carer").wait_for()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a 360 px screen ({width} px)"


async def test_the_home_page_is_accessible_on_a_phone(new_page: NewPage) -> None:
    page = await new_page(viewport=PHONE)
    await sign_in(page, "Cleo Carer", "cleo.shell@example.org")
    await page.get_by_role("heading", name="Hello, Cleo Carer").wait_for()
    await assert_accessible(page, "home-phone")
