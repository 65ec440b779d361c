"""The home page (every section, empty and full), my profile (errors beside the field), and the
people directory ("who knows about ...?", by expertise tag and by free text)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import expect

from tests.support.api import Person, create_community, join, new_person
from tests.support.browser import PHONE, assert_accessible
from tests.support.waiting import eventually
from tests.support.web_people import browser_person, sign_in_as
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def api(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as client:
        yield client


async def test_profile_edit_names_a_bad_value_beside_its_field_then_saves(new_page: NewPage) -> None:
    hana = browser_person("Hana Profile")
    page = await new_page()
    await sign_in_as(page, hana, next_path="/me")
    await page.get_by_role("heading", name="My profile").wait_for()
    await assert_accessible(page, "profile-empty")

    await page.get_by_label("Your name").fill("")
    await page.get_by_label("Expertise").fill("falls prevention, " + "x" * 61)
    await page.get_by_role("button", name="Save profile").click()
    await expect(page.locator("#error-display_name")).to_contain_text("Enter your name.")
    await expect(page.locator("#error-expertise")).to_contain_text("Keep each one to 60 characters")
    await expect(page.get_by_label("Expertise")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Expertise")).to_have_value("falls prevention, " + "x" * 61)  # kept to fix
    await assert_accessible(page, "profile-error")

    await page.get_by_label("Your name").fill("Hana Nurse")
    await page.get_by_label("Organisation").fill("North Trust")
    await page.get_by_label("About you").fill("Community nurse.")
    await page.get_by_label("Expertise").fill("Falls prevention, dementia care, falls prevention")
    await page.get_by_label("Interests").fill("frailty")
    await page.get_by_role("button", name="Save profile").press("Enter")  # by keyboard
    await expect(page.get_by_text("Your profile is saved.")).to_be_visible()
    await expect(page.get_by_label("Expertise")).to_have_value("Falls prevention, dementia care")
    card = page.locator(".person-card")
    await expect(card).to_contain_text("Hana Nurse")
    await expect(card).to_contain_text("North Trust")
    await assert_accessible(page, "profile-full")


async def test_the_directory_finds_someone_by_expertise_and_by_text(new_page: NewPage, api: httpx.AsyncClient) -> None:
    topic = f"falls prevention {secrets.token_hex(2)}"
    ana = new_person("ana")
    community = await create_community(api, ana, name="Falls Directory")
    ben = browser_person("Ben Directory")
    assert (await join(api, community["id"], ben)).status_code == 201
    saved = await api.put(
        "/v1/me/profile",
        json={"display_name": "Ben Physio", "organisation": "South Clinic", "expertise": [topic], "bio": "Physio."},
        headers=ben.headers,
    )
    assert saved.status_code == 200, saved.text

    cara = browser_person("Cara Seeker")
    assert (await join(api, community["id"], cara)).status_code == 201
    page = await new_page(viewport=PHONE)
    await sign_in_as(page, cara, next_path="/people")
    await page.get_by_role("heading", name="People", exact=True).wait_for()
    await page.get_by_label("Who knows about").fill(topic.upper())  # tags match whatever the case
    await page.get_by_role("button", name="Find people").click()
    card = page.locator(".person-card", has_text="Ben Physio")
    await expect(card).to_contain_text("South Clinic")
    await expect(card).to_contain_text(topic)
    await expect(card).not_to_contain_text(ben.email)  # the directory never shows addresses
    await expect(page.locator(".person-card")).to_have_count(1)
    await assert_accessible(page, "people-full")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the directory scrolls sideways on a 360 px screen ({width} px)"

    # The tag on the card is itself a search; free text finds by organisation.
    await page.goto("/people?q=South+Clinic")
    await expect(page.locator(".person-card", has_text="Ben Physio")).to_be_visible()
    await page.goto(f"/people?expertise=nobody-knows-{secrets.token_hex(3)}")
    await expect(page.get_by_text("Nobody matches that yet.")).to_be_visible()
    await assert_accessible(page, "people-empty")
    await page.goto("/people?q=" + "x" * 201)
    await expect(page.locator("#error-q")).to_contain_text("Use at most 200 characters.")
    await assert_accessible(page, "people-error")


async def test_the_directory_pages_without_javascript(new_page: NewPage, api: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    tag = f"wound care {secrets.token_hex(2)}"
    community = await create_community(api, ana, name="Wound Directory")
    for n in range(21):
        member = new_person(f"member{n}")
        assert (await join(api, community["id"], member)).status_code == 201
        saved = await api.put("/v1/me/profile", json={"expertise": [tag]}, headers=member.headers)
        assert saved.status_code == 200, saved.text
    dana = browser_person("Dana Pager")
    assert (await join(api, community["id"], dana)).status_code == 201
    page = await new_page(javascript=False)
    await sign_in_as(page, dana, next_path=f"/people?expertise={tag.replace(' ', '+')}")
    await expect(page.locator(".person-card")).to_have_count(20)
    await page.get_by_role("link", name="More people").click()
    await expect(page.locator(".person-card")).to_have_count(1)
    await expect(page.get_by_role("link", name="More people")).to_have_count(0)


async def test_home_shows_each_section_full_and_the_unread_count_live(
    new_page: NewPage, api: httpx.AsyncClient
) -> None:
    ana = new_person("ana")
    community = await create_community(api, ana, name="Home Falls", join_policy="approval")
    eli = browser_person("Eli Home")
    requested = await join(api, community["id"], eli)
    assert requested.status_code == 202
    page = await new_page()
    await sign_in_as(page, eli)
    await expect(page.get_by_text("You are not in any community yet.")).to_be_visible()
    await expect(page.get_by_text("Nothing new. You are up to date.")).to_be_visible()
    await expect(page.get_by_text("No events coming up in your communities.")).to_be_visible()
    await expect(page.get_by_text("No discussions yet in your communities.")).to_be_visible()
    await expect(page.get_by_text("Nothing endorsed yet.")).to_be_visible()

    approved = await api.post(
        f"/v1/communities/{community['id']}/requests/{requested.json()['request_id']}/approve", headers=ana.headers
    )
    assert approved.status_code == 200, approved.text
    # Live, without a reload: the section and the header badge.
    await expect(page.get_by_text("You have 1 unread notification.")).to_be_visible()
    await expect(page.locator("#unread-badge")).to_have_text("1")
    await assert_accessible(page, "home-notifications-live")

    starts = datetime.now(UTC) + timedelta(days=3)
    event = {
        "title": "Falls clinic open evening",
        "format": "in_person",
        "venue": "Room 4, North Hospital",
        "timezone": "Europe/London",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
    }

    async def scheduled() -> bool:
        made = await api.post(f"/v1/communities/{community['id']}/events", json=event, headers=ana.headers)
        return made.status_code == 201

    await eventually(scheduled, what="the events service to know the community")
    thread = {"kind": "discussion", "title": "Hip protectors: worth it?", "body": "What have you seen?"}

    async def posted() -> bool:
        made = await api.post(f"/v1/communities/{community['id']}/threads", json=thread, headers=ana.headers)
        return made.status_code == 201

    await eventually(posted, what="the resources service to know the community")
    note = {"kind": "note", "title": "Falls risk checklist", "summary": "Ten questions", "text": "1. Falls?"}
    made = await api.post(f"/v1/communities/{community['id']}/resources", json=note, headers=ana.headers)
    assert made.status_code == 201, made.text
    endorsed = await api.put(f"/v1/resources/{made.json()['id']}/endorsement", headers=ana.headers)
    assert endorsed.status_code == 200, endorsed.text

    async def all_shown() -> bool:
        await page.goto("/")
        text = await page.locator("main").inner_text()
        wanted = ("Falls clinic open evening", "Hip protectors: worth it?", "Falls risk checklist")
        return all(title in text for title in wanted)

    await eventually(all_shown, what="every section on the home page")
    await expect(page.get_by_role("link", name="Home Falls", exact=True)).to_be_visible()
    assert await page.get_by_role("link", name="Falls clinic open evening", exact=True).get_attribute("href") == (
        f"/events/{(await _first_event_id(api, community['id'], ana))}"
    )
    await assert_accessible(page, "home-full")


async def _first_event_id(api: httpx.AsyncClient, community_id: str, person: Person) -> str:
    listed = await api.get(f"/v1/communities/{community_id}/events", headers=person.headers)
    return str(listed.json()["items"][0]["id"])


async def test_home_on_a_phone_without_javascript(new_page: NewPage) -> None:
    page = await new_page(viewport=PHONE, javascript=False)
    await sign_in_as(page, browser_person("Fin Phone"))
    await expect(page.get_by_role("heading", name="My next events")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the home page scrolls sideways on a 360 px screen ({width} px)"
