"""Notification preferences (saved and shown again, errors beside their fields) and the
unsubscribe landing page (asks first, confirms on POST without signing in, a used link still
reads well, a bad one leaks nothing)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import Person, create_community, join, new_person
from tests.support.browser import PHONE, assert_accessible
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually
from tests.support.web_people import browser_person, sign_in_as
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)
PREFERENCES = "/v1/me/notification-preferences"


@pytest.fixture
async def api(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as client:
        yield client


async def stored(api: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    answer = await api.get(PREFERENCES, headers=person.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_preferences_are_saved_and_shown_again(new_page: NewPage, api: httpx.AsyncClient) -> None:
    fay = browser_person("Fay Prefs")
    page = await new_page()
    await sign_in_as(page, fay, next_path="/notifications/preferences")
    await expect(page.get_by_text("When you join a community you can choose here")).to_be_visible()
    await assert_accessible(page, "preferences-empty")

    community = await create_community(api, new_person("ana"), name="Wound Care Prefs")
    assert (await join(api, community["id"], fay)).status_code == 201
    await page.reload()
    await page.get_by_label("New events: Email now").first.check()
    await page.get_by_label("Mute Wound Care Prefs").check()
    await page.get_by_text("Choose per kind for Wound Care Prefs").click()
    await page.get_by_role("group", name="Wound Care Prefs").get_by_label("Announcements: Off").check()
    await page.get_by_label("Send digests at").select_option("7")
    await assert_accessible(page, "preferences-full")
    await page.get_by_role("button", name="Save preferences").click()

    await expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    await expect(page.get_by_label("New events: Email now").first).to_be_checked()
    await expect(page.get_by_label("Mute Wound Care Prefs")).to_be_checked()
    await expect(page.get_by_role("group", name="Wound Care Prefs").get_by_label("Announcements: Off")).to_be_checked()
    await expect(page.get_by_label("Send digests at")).to_have_value("7")
    body = await stored(api, fay)
    assert body["defaults"]["event_scheduled"] == "email"
    assert body["communities"][community["id"]]["muted"] is True
    assert body["communities"][community["id"]]["types"] == {"announcement_posted": "off"}
    assert body["digest_hour"] == 7


async def test_bad_preferences_are_named_beside_their_fields(new_page: NewPage, api: httpx.AsyncClient) -> None:
    gil = browser_person("Gil Prefs")
    page = await new_page(viewport=PHONE)
    await sign_in_as(page, gil, next_path="/notifications/preferences")
    # The API refuses the time zone: its message is shown beside the field.
    await page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
    await page.get_by_role("button", name="Save preferences").click()
    timezone_error = page.locator("#error-timezone")
    await expect(timezone_error).to_contain_text("IANA time zone")
    await expect(page.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, "preferences-error")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the preferences scroll sideways on a 360 px screen ({width} px)"
    # Checked here first: the address.
    await page.get_by_label("Time zone").fill("Europe/London")
    await page.get_by_label("Send email to").fill("not an address")
    await page.get_by_role("button", name="Save preferences").click()
    await expect(page.locator("#error-email")).to_contain_text("Enter an email address like name@example.org.")
    assert (await stored(api, gil))["timezone"] != "Mars/Olympus_Mons"


def _unsubscribe_token(mail: Any) -> str:
    found = re.search(r"/v1/unsubscribe/([A-Za-z0-9_.-]+)>", mail["List-Unsubscribe"])
    assert found, mail["List-Unsubscribe"]
    return found.group(1)


async def test_the_unsubscribe_page_asks_then_confirms_without_signing_in(
    new_page: NewPage, api: httpx.AsyncClient, session_smtp: SmtpServer
) -> None:
    ana = new_person("ana")
    seen = await api.get("/v1/me/notifications/unread-count", headers=ana.headers)  # records Ana's address
    assert seen.status_code == 200
    community = await create_community(api, ana, name="Falls Unsubscribe", join_policy="approval")
    assert (await join(api, community["id"], new_person("ben"))).status_code == 202
    [mail] = await eventually(lambda: asyncio.sleep(0, session_smtp.catcher.to(ana.email)), what="Ana's mail")
    token = _unsubscribe_token(mail)

    page = await new_page()

    async def asks() -> bool:
        await page.goto(f"/unsubscribe/{token}")
        return "Falls Unsubscribe" in await page.locator("main").inner_text()

    await eventually(asks, what="the page naming the community")
    await expect(page.get_by_text("Stop emails about new join requests in Falls Unsubscribe?")).to_be_visible()
    assert (await stored(api, ana))["communities"] == {}  # opening the link changed nothing
    await assert_accessible(page, "unsubscribe-confirm")

    await page.get_by_role("button", name="Unsubscribe").click()
    done = "You will no longer get emails about new join requests in Falls Unsubscribe."
    await expect(page.get_by_text(done)).to_be_visible()
    await assert_accessible(page, "unsubscribe-done")
    assert (await stored(api, ana))["communities"][community["id"]]["types"] == {"join_requested": "in_app"}

    # The same link again (a second click, a forwarded mail): the same readable answer, nothing more changes.
    await page.goto(f"/unsubscribe/{token}")
    await page.get_by_role("button", name="Unsubscribe").click()
    await expect(page.get_by_text(done)).to_be_visible()


async def test_a_bad_unsubscribe_link_is_one_readable_message(new_page: NewPage) -> None:
    page = await new_page(viewport=PHONE, javascript=False)
    for token in ("not-a-token", "x" * 40 + ".tampered", "%3Cscript%3E"):
        answer = await page.goto(f"/unsubscribe/{token}")
        assert answer is not None and answer.status == 404
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    await page.goto("/unsubscribe/not-a-token")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]


async def test_the_bad_unsubscribe_page_is_accessible(new_page: NewPage) -> None:
    page = await new_page()
    await page.goto("/unsubscribe/not-a-token")
    await assert_accessible(page, "unsubscribe-bad")
