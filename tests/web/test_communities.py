"""Community pages across people, in a real browser: create, find, ask to join, approve, the
members page, a new code of conduct shown as what changed, and the refusals."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import create_community, join
from tests.support.browser import assert_accessible
from tests.web.community_steps import main_text, signed_in, unique
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)

CONDUCT_V1 = "Be kind.\nKeep patient details out of posts.\nCredit other people's work."
CONDUCT_V2 = "Be kind.\nNever share patient details.\nCredit other people's work.\nAsk before recording a meeting."


async def test_ask_to_join_approve_and_accept_a_new_code_of_conduct(new_page: NewPage) -> None:
    ana = await signed_in(await new_page(), "Ana Owner")
    page = ana.page
    tag = unique("falls")
    name = f"Falls prevention {unique('cop')}"
    await page.goto("/communities?q=" + unique("nothing-matches"))
    await page.get_by_text("No community matches that search.").wait_for()
    await assert_accessible(page, "communities-directory-empty")

    await page.get_by_role("link", name="Create a community").click()
    await page.get_by_role("button", name="Create community").click()
    await page.get_by_role("heading", name="There is a problem").wait_for()
    await expect(page.locator("#error-name")).to_contain_text("Enter name")
    await expect(page.locator("#error-purpose")).to_contain_text("Enter purpose")
    await assert_accessible(page, "communities-new-error")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Purpose").fill("Fewer falls on our wards")
    await page.get_by_label("Tags").fill(f"{tag}, nursing")
    await page.get_by_label("How people join").select_option("approval")
    await page.get_by_label("Code of conduct").fill(CONDUCT_V1)
    await page.get_by_role("button", name="Create community").click()
    await page.get_by_text("you are its owner").wait_for()
    await page.get_by_role("heading", name=name).wait_for()
    await assert_accessible(page, "communities-about-owner")

    ben = await signed_in(await new_page(), "Ben Nurse")
    bpage = ben.page
    await bpage.goto("/communities")
    await bpage.get_by_label("Search communities").fill(name)
    await bpage.get_by_role("button", name="Search", exact=True).click()
    card = bpage.locator(".community-card", has_text=name)
    await expect(card).to_contain_text("Ask to join")
    await expect(card).to_contain_text("Fewer falls on our wards")
    await assert_accessible(bpage, "communities-directory-full")
    await card.get_by_role("link", name=tag).click()
    await bpage.get_by_text(f"Showing communities tagged “{tag}”.").wait_for()
    await bpage.get_by_role("link", name=name).click()
    await bpage.get_by_role("heading", name="Your membership").wait_for()
    await assert_accessible(bpage, "communities-about-visitor")

    await bpage.get_by_label("Message to the facilitators").fill("I lead falls audits on ward 7.")
    await bpage.get_by_role("button", name="Ask to join").click()
    await expect(bpage.locator("#error-accept_conduct")).to_contain_text("Tick the box")
    await assert_accessible(bpage, "communities-about-error")
    await bpage.get_by_label("I have read and accept the code of conduct (version 1)").check()
    await bpage.get_by_role("button", name="Ask to join").click()
    await bpage.get_by_text("Your request to join is sent.").wait_for()
    await bpage.get_by_role("button", name="Withdraw my request").wait_for()
    await assert_accessible(bpage, "communities-about-pending")

    await page.get_by_role("link", name="Manage").click()
    request_card = page.locator(".queue .card", has_text="Ben Nurse")
    await expect(request_card).to_contain_text("I lead falls audits on ward 7.")
    await assert_accessible(page, "communities-manage-requests-full")
    await request_card.get_by_role("button", name="Approve Ben Nurse").click()
    await page.get_by_text("Ben Nurse is now a member.").wait_for()
    await page.get_by_text("No one is waiting to join.").wait_for()
    await assert_accessible(page, "communities-manage-requests-empty")

    await bpage.reload()
    await bpage.get_by_text("You are a member (member).").wait_for()
    await bpage.get_by_role("link", name="Members").click()
    members = bpage.locator(".member-list")
    await expect(members.locator("li", has_text="Ana Owner")).to_contain_text("Owner")
    await expect(members.locator("li", has_text="Ben Nurse")).to_contain_text("Member")
    await assert_accessible(bpage, "communities-members-full")

    await page.get_by_role("link", name="Code of conduct").click()
    await page.get_by_label("Text of the code of conduct").fill("")
    await page.get_by_role("button", name="Publish a new version").click()
    await expect(page.locator("#error-text")).to_contain_text("Enter code of conduct")
    await assert_accessible(page, "communities-manage-conduct-error")
    await page.get_by_label("Text of the code of conduct").fill(CONDUCT_V2)
    await page.get_by_role("button", name="Publish a new version").click()
    await page.get_by_text("Version 2 of the code of conduct is published.").wait_for()
    await assert_accessible(page, "communities-manage-conduct")

    await bpage.get_by_role("link", name="About").click()
    await bpage.get_by_role("heading", name="What changed since version 1").wait_for()
    changes = bpage.locator(".conduct-changes")
    await expect(changes.locator("li.removed")).to_have_text("Removed: Keep patient details out of posts.")
    await expect(changes.locator("li.added")).to_have_text(
        ["Added: Never share patient details.", "Added: Ask before recording a meeting."]
    )
    await assert_accessible(bpage, "communities-about-conduct-changed")
    await bpage.get_by_label("I have read and accept the code of conduct (version 2)").check()
    await bpage.get_by_role("button", name="Accept the code of conduct").click()
    await bpage.get_by_text("you accept version 2 of the code of conduct").wait_for()
    assert "What changed" not in await main_text(bpage)


async def test_an_invitation_link_makes_the_invitee_a_member_once(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    ana = await signed_in(await new_page(), "Ana Host")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        community = await create_community(
            api, ana.person, name=unique("Night shift"), join_policy="invite", code_of_conduct="Be kind."
        )
    page = ana.page
    await page.goto(f"/communities/{community['id']}/manage/invitations")
    await page.get_by_label("Their email address").fill("not an email")
    await page.get_by_label("Days the link works").fill("45")
    await page.get_by_role("button", name="Create invitation link").click()
    await expect(page.locator("#error-email")).to_contain_text("Enter an email address")
    await expect(page.locator("#error-days")).to_contain_text("from 1 to 30")
    await assert_accessible(page, "communities-manage-invitations-error")

    cleo_page = await new_page()
    cleo = await signed_in(cleo_page, "Cleo Carer")
    await page.get_by_label("Their email address").fill(cleo.person.email)
    await page.get_by_label("Days the link works").fill("7")
    await page.get_by_role("button", name="Create invitation link").click()
    link = await page.get_by_label("Invitation link").input_value()
    assert "/invitations/" in link
    await assert_accessible(page, "communities-manage-invitations-created")

    path = link[link.index("/invitations/") :]
    await cleo_page.goto(path)
    # Before accepting, the invitee sees which community it is and its code of conduct.
    await cleo_page.get_by_text(f"You have been invited to join {community['name']}.").wait_for()
    await cleo_page.get_by_text("Be kind.").wait_for()
    await assert_accessible(cleo_page, "communities-invitation")
    await cleo_page.get_by_label("I have read and accept the code of conduct (version 1)").wait_for()
    await cleo_page.get_by_role("button", name="Accept the invitation").click()
    await expect(cleo_page.locator("#error-accept_conduct")).to_contain_text("Tick the box")
    await assert_accessible(cleo_page, "communities-invitation-error")
    await cleo_page.get_by_label("I have read and accept the code of conduct (version 1)").check()
    await cleo_page.get_by_role("button", name="Accept the invitation").click()
    await cleo_page.get_by_text("you have accepted the invitation").wait_for()
    await cleo_page.get_by_text("You are a member (member).").wait_for()

    # Accepting again is the same answer for Cleo; for anyone else the spent link, like an
    # unknown one, gets one message that names no community.
    dan = await signed_in(await new_page(), "Dan Other")
    for unusable in (path, "/invitations/no-such-token"):
        await dan.page.goto(unusable)
        await dan.page.get_by_text("This invitation cannot be used.").wait_for()
        assert community["name"] not in await main_text(dan.page)
    await assert_accessible(dan.page, "communities-invitation-unusable")


async def test_facilitator_tools_are_the_404_page_for_anyone_else(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    ana = await signed_in(await new_page(), "Ana Lead")
    dan = await signed_in(await new_page(), "Dan Member")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        community = await create_community(api, ana.person, name=unique("Wound care"))
        assert (await join(api, community["id"], dan.person)).status_code == 201
    page = dan.page
    await page.goto("/communities/no-such-community/manage")
    missing = await main_text(page)
    for tool in ("", "/invitations", "/members", "/edit", "/conduct", "/links"):
        response = await page.goto(f"/communities/{community['id']}/manage{tool}")
        assert response is not None and response.status == 404
        assert await main_text(page) == missing
    await assert_accessible(page, "communities-manage-not-found")
    about = await page.goto(f"/communities/{community['id']}")
    assert about is not None and about.status == 200
    assert await page.get_by_role("link", name="Manage").count() == 0


async def test_create_and_edit_show_the_apis_refusals_beside_the_field(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    ana = await signed_in(await new_page(), "Ana Editor")
    slug = unique("taken")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        community = await create_community(api, ana.person, name=unique("Stroke rehab"), slug=slug)
    page = ana.page
    await page.goto("/communities/new")
    await page.get_by_label("Name").fill("Another stroke rehab group")
    await page.get_by_label("Purpose").fill("Rehab after stroke")
    await page.get_by_label("Web address (slug)").fill(slug)
    await page.get_by_role("button", name="Create community").click()
    await expect(page.locator("#error-slug")).to_be_visible()
    assert await page.get_by_label("Name").input_value() == "Another stroke rehab group"
    await page.get_by_label("Web address (slug)").fill("Not A Slug!")
    await page.get_by_label("Tags").fill("ok, bad/tag")
    await page.get_by_role("button", name="Create community").click()
    await expect(page.locator("#error-slug")).to_contain_text("Use lower-case letters")
    await expect(page.locator("#error-tags")).to_contain_text("bad/tag")
    await assert_accessible(page, "communities-new-refused")

    for tool, shows in (("links", "This community has no links yet."), ("invitations", "Invite someone")):
        await page.goto(f"/communities/{community['id']}/manage/{tool}")
        await page.get_by_text(shows).wait_for()
        await assert_accessible(page, f"communities-manage-{tool}-empty")
    await page.goto(f"/communities/{community['id']}/manage/edit")
    await assert_accessible(page, "communities-manage-edit")
    await page.get_by_label("Name").fill("ab")
    await page.get_by_role("button", name="Save details").click()
    await expect(page.locator("#error-name")).to_contain_text("at least 3")
    await assert_accessible(page, "communities-manage-edit-error")
    await page.get_by_label("Name").fill("Stroke rehab, renamed")
    await page.get_by_label("Description").fill("We meet monthly.")
    await page.get_by_role("button", name="Save details").click()
    await page.get_by_text("The details of the community are saved.").wait_for()
    await page.get_by_role("heading", name="Stroke rehab, renamed").wait_for()
    await page.get_by_text("We meet monthly.").wait_for()


async def test_the_directory_pages_on_with_more(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    gil = await signed_in(await new_page(), "Gil Browser")
    tag = unique("paging")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        names = [
            (await create_community(api, gil.person, name=f"Paged {i:02d} {tag}", tags=[tag]))["name"]
            for i in range(21)
        ]
    page = gil.page
    await page.goto(f"/communities?tag={tag}")
    cards = page.locator(".community-card")
    await expect(cards).to_have_count(20)
    await page.get_by_role("link", name="More communities").click()
    await expect(cards).to_have_count(1)
    shown = await cards.first.inner_text()
    assert any(name in shown for name in names)
    assert await page.get_by_role("link", name="More communities").count() == 0


async def test_a_withdrawn_invitation_cannot_be_used(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    hal = await signed_in(await new_page(), "Hal Host")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        community = await create_community(api, hal.person, name=unique("Withdrawn"), join_policy="invite")
    ivy = await signed_in(await new_page(), "Ivy Invitee")
    page = hal.page
    await page.goto(f"/communities/{community['id']}/manage/invitations")
    await page.get_by_label("Their email address").fill(ivy.person.email)
    await page.get_by_role("button", name="Create invitation link").click()
    link = await page.get_by_label("Invitation link").input_value()
    await page.get_by_role("button", name="Withdraw this invitation").click()
    await page.get_by_text("The invitation is withdrawn.").wait_for()
    await ivy.page.goto(link[link.index("/invitations/") :])
    # The page looks the invitation up before offering to accept it: no button to press.
    await ivy.page.get_by_text("This invitation cannot be used.").wait_for()
    assert await ivy.page.get_by_role("button", name="Accept the invitation").count() == 0
    about = await ivy.page.goto(f"/communities/{community['id']}")
    assert about is not None and about.status == 200
    await ivy.page.get_by_text("This community is by invitation only.").wait_for()


async def test_asking_to_join_works_by_keyboard_alone(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    jo = await signed_in(await new_page(), "Jo Owner")
    kim = await signed_in(await new_page(), "Kim Keys")
    async with httpx.AsyncClient(base_url=gateway_service.url) as api:
        community = await create_community(
            api, jo.person, name=unique("Keyboard ward"), join_policy="approval", code_of_conduct="Be kind."
        )
    page = kim.page
    await page.goto(f"/communities/{community['id']}")

    async def tab_to(selector: str) -> None:
        for _ in range(60):
            await page.keyboard.press("Tab")
            if await page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    await tab_to("#field-message")
    await page.keyboard.type("Community nurse, keyboard user.")
    await tab_to("#field-accept_conduct")
    await page.keyboard.press("Space")
    await tab_to("button[type=submit]:not(.link-button)")
    await page.keyboard.press("Enter")
    await page.get_by_text("Your request to join is sent.").wait_for()
