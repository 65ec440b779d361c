"""The notifications inbox: live badge and list, mark read, mark all, "older" paging, without
JavaScript and on a phone; someone else's notification is the same 404 as none."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import create_community, join, new_person
from tests.support.browser import PHONE, assert_accessible
from tests.support.waiting import eventually
from tests.support.web_people import browser_person, csrf_of, http_sign_in, sign_in_as
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def api(gateway_service: ServiceProcess) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as client:
        yield client


async def test_the_badge_and_inbox_update_live_when_a_join_request_is_approved(
    new_page: NewPage, api: httpx.AsyncClient
) -> None:
    ana = new_person("ana")
    ben = browser_person("Ben Live")
    community = await create_community(api, ana, name="Falls Prevention Live", join_policy="approval")
    page = await new_page()
    await sign_in_as(page, ben, next_path="/notifications")
    await page.get_by_role("heading", name="Notifications", exact=True).wait_for()
    await expect(page.get_by_text("No notifications yet.")).to_be_visible()
    await assert_accessible(page, "notifications-empty")

    requested = await join(api, community["id"], ben)
    assert requested.status_code == 202, requested.text
    approved = await api.post(
        f"/v1/communities/{community['id']}/requests/{requested.json()['request_id']}/approve", headers=ana.headers
    )
    assert approved.status_code == 200, approved.text

    # No reload: the header badge and the list follow the live stream.
    await expect(page.locator("#unread-badge")).to_have_text("1")
    item = page.locator("#notification-list li").first
    await expect(item).to_contain_text("Unread")
    await expect(item.get_by_role("link")).to_contain_text("Falls Prevention Live")
    assert await item.get_by_role("link").get_attribute("href") == f"/communities/{community['id']}"
    await assert_accessible(page, "notifications-full")

    await item.get_by_role("button", name="Mark read").press("Enter")  # by keyboard
    await expect(page.get_by_text("Marked read:")).to_be_visible()
    await expect(page.locator("#notification-list li").first).not_to_contain_text("Unread")
    await expect(page.locator("#unread-badge")).to_be_hidden()


async def test_the_inbox_pages_older_and_marks_read_without_javascript_on_a_phone(
    new_page: NewPage, api: httpx.AsyncClient
) -> None:
    ana = new_person("ana")
    cleo = browser_person("Cleo Paging")
    community = await create_community(api, ana, name="Dementia Care Paging")
    assert (await join(api, community["id"], cleo)).status_code == 201
    # 21 role changes: 21 notifications, one more than a page holds.
    for turn in range(21):
        role = "facilitator" if turn % 2 == 0 else "member"
        changed = await api.patch(
            f"/v1/communities/{community['id']}/members/{cleo.user_id}", json={"role": role}, headers=ana.headers
        )
        assert changed.status_code == 200, changed.text

    async def all_given() -> bool:
        count = await api.get("/v1/me/notifications/unread-count", headers=cleo.headers)
        return bool(count.json()["unread"] >= 21)

    await eventually(all_given, what="21 notifications for Cleo")

    page = await new_page(viewport=PHONE, javascript=False)
    await sign_in_as(page, cleo, next_path="/notifications")
    items = page.locator("#notification-list > ol > li")
    await expect(items).to_have_count(20)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the inbox scrolls sideways on a 360 px screen ({width} px)"
    await page.get_by_role("link", name="Older notifications").click()
    await expect(items).to_have_count(1)
    await items.first.get_by_role("button", name="Mark read").click()
    await expect(page.get_by_text("Marked read:")).to_be_visible()
    await expect(items.first).not_to_contain_text("Unread")
    assert "cursor=" in page.url  # back on the page it was marked on

    await page.goto("/notifications")
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.get_by_text("Marked 20 notifications read.")).to_be_visible()
    await expect(page.locator(".unread-label")).to_have_count(0)
    await page.get_by_role("link", name="Unread only").click()
    await expect(page.get_by_text("You have read everything.")).to_be_visible()


async def test_a_bad_older_link_is_a_readable_message(new_page: NewPage) -> None:
    dara = browser_person("Dara Cursor")
    page = await new_page()
    await sign_in_as(page, dara, next_path="/notifications?cursor=not-a-cursor")
    await expect(page.get_by_text("That page of notifications has gone.")).to_be_visible()
    await assert_accessible(page, "notifications-error")


async def test_someone_elses_notification_is_the_same_404_as_none(
    web_http: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    ana = new_person("ana")
    eve = browser_person("Eve Other")
    community = await create_community(api, ana, name="Someone Else's", join_policy="approval")
    requested = await join(api, community["id"], new_person("ben"))
    assert requested.status_code == 202

    async def anas_item() -> str | None:
        listed = await api.get("/v1/me/notifications", headers=ana.headers)
        items = listed.json()["items"]
        return str(items[0]["id"]) if items else None

    anas = await eventually(anas_item, what="Ana's join-request notification")
    await http_sign_in(web_http, eve)
    inbox = await web_http.get("/notifications")
    token = csrf_of(inbox.text)
    theirs = await web_http.post(f"/notifications/{anas}/read", data={"csrf_token": token})
    nobodys = await web_http.post(f"/notifications/{'0' * 24}/read", data={"csrf_token": token})
    assert theirs.status_code == nobodys.status_code == 404
    assert re.sub(r'value="[^"]+"', "", theirs.text) == re.sub(r'value="[^"]+"', "", nobodys.text)
    assert "Page not found" in theirs.text


@pytest.mark.parametrize("path", ["/notifications", "/notifications/preferences", "/me", "/people", "/home/unread"])
async def test_personal_pages_ask_for_sign_in_first(web_http: httpx.AsyncClient, path: str) -> None:
    answer = await web_http.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=")
