"""The core community flows without JavaScript on a 360 px screen: join an open community,
ask to join one that needs approval, and approve the request."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import create_community
from tests.support.browser import PHONE, assert_accessible
from tests.support.web_pages import sign_in
from tests.web.community_steps import no_sideways_scroll, signed_in, unique
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)


async def test_join_ask_and_approve_without_javascript_on_a_phone(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    owner = await signed_in(await new_page(viewport=PHONE, javascript=False), "Owen Owner")
    eve = await signed_in(await new_page(viewport=PHONE, javascript=False), "Eve Phone")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        open_one = await create_community(api, owner.person, name=unique("Open ward"), tags=["phones"])
        approval = await create_community(
            api, owner.person, name=unique("Approval ward"), join_policy="approval", code_of_conduct="Be kind."
        )

    page = eve.page
    await page.goto("/communities?q=" + open_one["name"])
    await no_sideways_scroll(page)
    await page.get_by_role("link", name=open_one["name"]).click()
    await page.get_by_role("button", name="Join community").click()
    await page.get_by_text("you are a member of").wait_for()
    await no_sideways_scroll(page)

    await page.goto(f"/communities/{approval['id']}")
    await page.get_by_role("button", name="Ask to join").click()
    await page.locator("#error-accept_conduct").wait_for()
    await no_sideways_scroll(page)
    await page.get_by_label("Message to the facilitators").fill("Ward 3 night nurse.")
    await page.get_by_label("I have read and accept the code of conduct (version 1)").check()
    await page.get_by_role("button", name="Ask to join").click()
    await page.get_by_text("Your request to join is sent.").wait_for()

    await owner.page.goto(f"/communities/{approval['id']}/manage")
    await no_sideways_scroll(owner.page)
    await owner.page.get_by_role("button", name="Approve Eve Phone").click()
    await owner.page.get_by_text("Eve Phone is now a member.").wait_for()

    await page.reload()
    await page.get_by_text("You are a member (member).").wait_for()
    await page.get_by_role("link", name="Members").click()
    await page.locator(".member-list li", has_text="Eve Phone").wait_for()
    await no_sideways_scroll(page)

    # axe runs as page script, so it checks the same pages at 360 px with JavaScript on.
    phone = await new_page(viewport=PHONE)
    await sign_in(phone, "Eve Phone", eve.person.email)
    for path, name in (
        ("/communities?q=" + open_one["name"], "communities-directory-phone"),
        (f"/communities/{approval['id']}", "communities-about-member-phone"),
        (f"/communities/{approval['id']}/members", "communities-members-phone"),
    ):
        await phone.goto(path)
        await no_sideways_scroll(phone)
        await assert_accessible(phone, name)
