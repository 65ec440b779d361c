"""Partner communities and roles: links proposed and accepted in the browser, a hidden
community never shown through its links, members-only pages, changing a role."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import create_community
from tests.support.browser import assert_accessible
from tests.web.community_steps import main_text, signed_in, unique
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)


async def test_links_are_proposed_accepted_and_a_hidden_partner_never_shows(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    ana = await signed_in(await new_page(), "Ana Linker")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        home = await create_community(api, ana.person, name=unique("Diabetes nurses"))
        partner = await create_community(api, ana.person, name=unique("Podiatry"), slug=unique("podiatry"))
        hidden = await create_community(api, ana.person, name=unique("Secret board"), visibility="hidden")
        proposed = await api.post(
            f"/v1/communities/{hidden['id']}/links", json={"to_community_id": home["id"]}, headers=ana.person.headers
        )
        assert proposed.status_code == 201, proposed.text
        accepted = await api.post(
            f"/v1/communities/{home['id']}/links/{proposed.json()['id']}/accept", headers=ana.person.headers
        )
        assert accepted.status_code == 200, accepted.text

    page = ana.page
    await page.goto(f"/communities/{home['id']}/manage/links")
    await page.get_by_label("The name or web address of the other community").fill("no-such-community")
    await page.get_by_role("button", name="Propose link").click()
    await expect(page.locator("#error-other")).to_contain_text("No community you can see")
    await assert_accessible(page, "communities-manage-links-error")
    await page.get_by_label("The name or web address of the other community").fill(partner["name"])
    await page.get_by_role("button", name="Propose link").click()
    await page.get_by_text(f"A link to {partner['name']} is proposed").wait_for()

    await page.goto(f"/communities/{partner['id']}/manage/links")
    await page.get_by_role("button", name=f"Accept the link with {home['name']}").click()
    await page.get_by_text("The link is accepted.").wait_for()
    await assert_accessible(page, "communities-manage-links-full")

    await page.goto(f"/communities/{home['id']}")
    partners = page.locator("section", has=page.get_by_role("heading", name="Partner communities"))
    await expect(partners).to_contain_text(partner["name"])
    await expect(partners).to_contain_text(hidden["name"])  # Ana is a member of the hidden one

    ben = await signed_in(await new_page(), "Ben Outsider")
    await ben.page.goto(f"/communities/{home['id']}")
    await ben.page.get_by_role("heading", name="Partner communities").wait_for()
    text = await main_text(ben.page)
    assert partner["name"] in text and hidden["name"] not in text
    await assert_accessible(ben.page, "communities-about-partners")
    response = await ben.page.goto(f"/communities/{hidden['id']}")
    assert response is not None and response.status == 404


async def test_members_only_pages_and_changing_a_role(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    ana = await signed_in(await new_page(), "Ana Roles")
    fay = await signed_in(await new_page(), "Fay Helper")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        private = await create_community(api, ana.person, name=unique("Private huddle"), visibility="private")
        joined = await api.post(f"/v1/communities/{private['id']}/members", headers=fay.person.headers)
        assert joined.status_code == 201, joined.text
    outsider = await signed_in(await new_page(), "Gus Outsider")
    await outsider.page.goto(f"/communities/{private['id']}/members")
    await outsider.page.get_by_text("Only members can see who belongs to this community.").wait_for()
    await assert_accessible(outsider.page, "communities-members-private")
    await outsider.page.goto(f"/communities/{private['id']}")
    await outsider.page.get_by_text("Only members can see the description, members and partners").wait_for()

    page = ana.page
    await page.goto(f"/communities/{private['id']}/manage/members")
    await assert_accessible(page, "communities-manage-roles")
    await page.get_by_label("Role of Fay Helper").select_option("facilitator")
    card = page.locator(".queue .card", has_text="Fay Helper")
    await card.get_by_role("button", name="Change role").click()
    await page.get_by_text("Fay Helper is now facilitator.").wait_for()
    await fay.page.goto(f"/communities/{private['id']}/manage")
    await fay.page.get_by_text("No one is waiting to join.").wait_for()
    # The only owner cannot stop being one: the API's reason is shown.
    await page.get_by_label("Role of Ana Roles").select_option("member")
    await page.locator(".queue .card", has_text="Ana Roles").get_by_role("button", name="Change role").click()
    await page.locator(".flash-error").wait_for()
    await assert_accessible(page, "communities-manage-roles-error")
