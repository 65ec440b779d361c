"""`/me/data` in a real browser: ask for a copy of my data, see it become ready, download the
archive; erase my account (refused while I am a community's only owner, then done, and every
session of mine here ends)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import create_community, join
from tests.support.browser import assert_accessible
from tests.support.waiting import eventually
from tests.web.community_steps import main_text, signed_in
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)


async def test_ask_for_my_data_and_download_the_archive(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    nia = await signed_in(await new_page(), "Nia Export")
    page = nia.page
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as api:
        community = await create_community(api, nia.person, name=f"Export circle {nia.person.user_id[-6:]}")
    await page.goto("/me")
    await page.get_by_role("link", name="Your data: get a copy, or erase your account").click()
    await page.get_by_role("heading", name="Your data", exact=True).wait_for()
    await assert_accessible(page, "my-data-empty")
    await page.get_by_role("button", name="Ask for a copy of my data").click()
    await page.get_by_text("We are gathering your data").wait_for()
    await assert_accessible(page, "my-data-pending")

    async def ready() -> bool | None:
        await page.reload()
        return await page.get_by_role("link", name="Download the archive").count() == 1 or None

    await eventually(ready, what="the export to be ready", timeout=60)
    await assert_accessible(page, "my-data-ready")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the archive").click()
    archive = await asyncio.to_thread(Path(await (await info.value).path()).read_bytes)
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        names = set(zipped.namelist())
        membership = json.loads(zipped.read("membership.json"))
    assert {"manifest.json", "README.txt", "membership.json", "events.json"} <= names, names
    assert community["id"] in json.dumps(membership)


async def test_erase_my_account_after_handing_over_what_i_own(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    ola = await signed_in(await new_page(), "Ola Leaving")
    page = ola.page
    other = await signed_in(await new_page(), "Pat Staying")
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as api:
        community = await create_community(api, ola.person, name=f"Handed over {ola.person.user_id[-6:]}")
        assert (await join(api, community["id"], other.person)).status_code == 201

        await page.goto("/me/delete")
        await assert_accessible(page, "delete-account")
        await page.get_by_role("button", name="Erase my account").click()
        await expect(page.locator("#error-confirm")).to_contain_text("Tick the box")
        await page.get_by_label("I understand that my account is erased for good").check()
        await page.get_by_role("button", name="Erase my account").click()
        await expect(page.locator("#error-confirm")).to_contain_text("only owner of")
        assert community["name"] in await main_text(page)
        await assert_accessible(page, "delete-account-refused")

        promoted = await api.patch(
            f"/v1/communities/{community['id']}/members/{other.person.user_id}",
            json={"role": "owner"},
            headers=ola.person.headers,
        )
        assert promoted.status_code == 200, promoted.text
        await page.get_by_label("I understand that my account is erased for good").check()
        await page.get_by_role("button", name="Erase my account").click()
        await page.get_by_text("Your account is erased.").wait_for()
        await assert_accessible(page, "delete-account-done")

        # Signed out here: my pages ask me to sign in again.
        await page.goto("/me")
        await page.wait_for_url(lambda url: "/sign-in" in url)

        async def gone() -> bool | None:
            members = await api.get(f"/v1/communities/{community['id']}/members", headers=other.person.headers)
            ids = [m["user_id"] for m in members.json()["items"]]
            return ola.person.user_id not in ids or None

        await eventually(gone, what="the erased person to leave the member list")
