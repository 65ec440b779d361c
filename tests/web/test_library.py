"""The library, an item's page, collections and search, driven in a browser by two people.

Data the test is not about (the community, who is a member) is made through the gateway; the
flows under test (upload, find, download, mark useful, versions, endorse) are a person's clicks.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources import sample_files
from tests.resources.file_uploads import community_with, metadata, upload
from tests.support.api import Person
from tests.support.browser import PHONE, assert_accessible
from tests.support.waiting import eventually
from tests.support.web_pages import sign_in
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess
from weft_web.auth.dev_people import dev_subject

pytestmark = pytest.mark.timeout(300)
Doc = dict[str, Any]


@pytest.fixture(scope="session")
async def gateway(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
async def resources_view(database: Any, platform_env: dict[str, str]) -> AsyncIterator[AsyncDatabase[Doc]]:
    """The resources service's database, read only to wait until it knows who is a member."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client[platform_env["WEFT_RESOURCES_DATABASE"]]
    finally:
        await client.close()


def web_person(label: str) -> Person:
    """Someone who signs in on the dev page with this email (so the API knows them by the same id)."""
    email = f"{label}-{secrets.token_hex(4)}@example.org"
    return Person(user_id=dev_subject(email), email=email, name=label.title())


async def signed_in(new_page: NewPage, person: Person, **options: Any) -> Page:
    page = await new_page(**options)
    await sign_in(page, person.name, person.email)
    return page


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a 360 px screen ({width} px)"


async def download_bytes(page: Page, link_name: str) -> bytes:
    async with page.expect_download() as info:
        await page.get_by_role("link", name=link_name).first.click()
    download = await info.value
    path = await download.path()
    return await asyncio.to_thread(Path(path).read_bytes)


async def test_upload_find_download_mark_useful_restore_and_endorse(
    new_page: NewPage, gateway: httpx.AsyncClient, resources_view: AsyncDatabase[Doc]
) -> None:
    ana, ben = web_person("ana"), web_person("ben")
    community_id = await community_with(gateway, resources_view, ana, ben)
    word = f"zebra{secrets.token_hex(3)}"
    first = sample_files.pdf(f"Falls audit {word} results")
    second = sample_files.pdf("Falls audit second edition")

    page = await signed_in(new_page, ana)
    await page.goto(f"/communities/{community_id}/library")
    await page.get_by_text("The library is empty so far.").wait_for()
    await assert_accessible(page, "library-empty")
    await page.get_by_role("link", name="Add to the library").click()
    await page.get_by_role("link", name="A file").click()
    await page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "audit.pdf", "mimeType": "application/pdf", "buffer": first}]
    )
    # No title: the message is beside the title field.
    await page.get_by_role("button", name="Upload").click()
    await page.locator("#error-title").get_by_text("Enter title.").wait_for()
    await assert_accessible(page, "library-new-file-errors")
    await page.get_by_label("Title").fill("Falls audit")
    await page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "audit.pdf", "mimeType": "application/pdf", "buffer": first}]
    )
    await page.get_by_label("Tags").fill("falls, audit")
    await page.get_by_role("button", name="Upload").click()
    await page.get_by_role("heading", name="Falls audit").wait_for()
    resource_url = page.url
    await assert_accessible(page, "resource-file")

    # Ben, a member, finds it by a word inside the PDF, opens it, downloads it, marks it useful.
    reader = await signed_in(new_page, ben)

    async def found() -> bool:
        await reader.goto(f"/search?q={word}")
        return await reader.get_by_role("link", name="Falls audit").count() > 0

    await eventually(found, what="the upload in search")
    assert await reader.locator(".snippet mark").count() > 0
    await assert_accessible(reader, "search-results")
    await reader.get_by_role("link", name="Falls audit").click()
    await reader.get_by_role("heading", name="Falls audit").wait_for()
    assert await download_bytes(reader, "Download") == first
    # Streamed through the web app with the API's type, name and safety headers.
    served = await reader.request.get(reader.url + "/download")
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment")
    assert "audit.pdf" in served.headers["content-disposition"]
    assert served.headers["content-security-policy"] == "sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert await served.body() == first
    # By keyboard: the button takes focus and Enter presses it.
    await reader.get_by_role("button", name="Mark as useful").focus()
    await reader.keyboard.press("Enter")
    await reader.get_by_text("1 person found this useful.").wait_for()
    assert await reader.get_by_role("button", name="Remove my useful mark").count() == 1
    assert await reader.get_by_role("button", name="Endorse").count() == 0  # curation is the staff's

    # Ana publishes a new version, then restores the first one.
    await page.goto(resource_url)
    await page.get_by_label("New version", exact=True).set_input_files(
        files=[{"name": "audit-2.pdf", "mimeType": "application/pdf", "buffer": second}]
    )
    await page.get_by_role("button", name="Upload the new version").click()
    await page.get_by_text("The new version is uploaded.").wait_for()
    assert await download_bytes(page, "Download") == second
    await page.get_by_role("button", name="Restore version 1").click()
    await page.get_by_text("Version 1 is restored as the newest version.").wait_for()
    await page.get_by_text("Restored from version 1").wait_for()
    assert await download_bytes(page, "Download") == first
    await assert_accessible(page, "resource-versions")

    await page.get_by_label("Review by").fill("2027-03-31")
    await page.get_by_role("button", name="Set the review date").click()
    await page.get_by_text("The review date is set.").wait_for()
    assert await page.get_by_label("Review by").input_value() == "2027-03-31"

    # Endorsed, it is recommended in the library.
    await page.get_by_role("button", name="Endorse").click()
    await page.get_by_text("Endorsed: it shows as recommended.").wait_for()
    await page.get_by_role("link", name="Back to the library").click()
    recommended = page.locator("section", has=page.get_by_role("heading", name="Recommended"))
    await recommended.get_by_role("link", name="Falls audit").wait_for()
    await assert_accessible(page, "library-full")


async def test_refusals_are_named_beside_their_field_and_outsiders_get_the_404_page(
    new_page: NewPage, gateway: httpx.AsyncClient, resources_view: AsyncDatabase[Doc]
) -> None:
    ana, cleo = web_person("ana"), web_person("cleo")
    community_id = await community_with(gateway, resources_view, ana)
    page = await signed_in(new_page, ana)
    await page.goto(f"/communities/{community_id}/library/new?kind=file")
    await page.get_by_label("Title").fill("Totally a PDF")
    await page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": sample_files.pe()}]
    )
    await page.get_by_role("button", name="Upload").click()
    await page.locator("#error-file").get_by_text("does not accept this kind of file").wait_for()
    assert await page.get_by_label("Title").input_value() == "Totally a PDF"
    await assert_accessible(page, "library-new-file-415")

    # A note with no title, then a link with a bad address.
    await page.get_by_role("link", name="A note").click()
    await page.get_by_label("Text").fill("Some **words**")
    await page.get_by_role("button", name="Add").click()
    await page.locator("#error-title").get_by_text("Enter title.").wait_for()
    await page.get_by_role("link", name="Enter title.").click()  # the summary links to the field
    assert await page.evaluate("document.activeElement.id") == "field-title"
    await assert_accessible(page, "library-new-note-errors")

    made = await upload(
        gateway, ana, community_id, "private.pdf", sample_files.pdf("private"), fields=metadata(title="Private")
    )
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    outsider = await signed_in(new_page, cleo)
    for path in (f"/resources/{item_id}", f"/resources/{item_id}/download", "/resources/no-such-item"):
        response = await outsider.goto(path)
        assert response is not None and response.status == 404, path
        await outsider.get_by_role("heading", name="Page not found").wait_for()
        assert "Private" not in await outsider.content()
    await assert_accessible(outsider, "resource-not-found")


async def test_adding_without_javascript_on_a_phone(
    new_page: NewPage, gateway: httpx.AsyncClient, resources_view: AsyncDatabase[Doc]
) -> None:
    ana = web_person("ana")
    community_id = await community_with(gateway, resources_view, ana)
    page = await signed_in(new_page, ana, viewport=PHONE, javascript=False)
    await page.goto(f"/communities/{community_id}/library/new?kind=note")
    await page.get_by_label("Title").fill("Huddle notes")
    await page.get_by_label("Text").fill("Check **every** bed rail.\n\n<script>alert(1)</script>")
    await page.get_by_role("button", name="Add").click()
    await page.get_by_text("Added to the library.").wait_for()
    assert await page.locator(".note-body strong").inner_text() == "every"
    assert await page.locator(".note-body script").count() == 0
    await no_sideways_scroll(page)
    note_url = page.url
    # A new text is the note's next version; the first one can be restored.
    await page.get_by_role("link", name="Edit the details").click()
    await page.get_by_label("Text").fill("Check **both** bed rails.")
    await page.get_by_role("button", name="Save the changes").click()
    await page.get_by_text("Your changes are saved.").wait_for()
    assert await page.locator(".note-body strong").inner_text() == "both"
    await page.get_by_role("link", name="Version 1", exact=True).click()
    assert await page.locator(".note-body strong").inner_text() == "every"
    await page.get_by_role("button", name="Restore this version").click()
    await page.get_by_text("Version 1 is restored as the newest version.").wait_for()
    assert await page.locator(".note-body strong").inner_text() == "every"

    document = sample_files.docx(("Bed rail checklist", "Night shift"))
    await page.goto(f"/communities/{community_id}/library/new?kind=file")
    await page.get_by_label("Title").fill("Bed rail checklist")
    await page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "checklist.docx", "mimeType": "application/octet-stream", "buffer": document}]
    )
    await page.get_by_role("button", name="Upload").click()
    await page.get_by_text("Added to the library.").wait_for()
    await page.get_by_role("link", name="Download checklist.docx").wait_for()
    await no_sideways_scroll(page)

    await page.goto(f"/communities/{community_id}/library/new?kind=link")
    await page.get_by_label("Title").fill("NICE guideline")
    await page.get_by_label("Web address").fill("javascript:alert(1)")
    await page.get_by_role("button", name="Add").click()
    await page.locator("#error-url").wait_for()
    await no_sideways_scroll(page)

    await page.goto(f"/communities/{community_id}/library")
    await page.get_by_role("link", name="Bed rail checklist").wait_for()
    await no_sideways_scroll(page)
    await page.get_by_label("Kind").select_option("note")
    await page.get_by_role("button", name="Show").click()
    await page.get_by_role("link", name="Huddle notes").wait_for()
    assert await page.get_by_role("link", name="Bed rail checklist").count() == 0

    # axe runs in the page, so it checks the same pages on a phone with JavaScript on.
    phone = await signed_in(new_page, ana, viewport=PHONE)
    await phone.goto(note_url)
    await assert_accessible(phone, "resource-note-phone")
    await phone.goto(f"/communities/{community_id}/library?kind=note")
    await no_sideways_scroll(phone)
    await assert_accessible(phone, "library-filtered-phone")
    await phone.goto("/search?q=checklist")
    await no_sideways_scroll(phone)
    await assert_accessible(phone, "search-phone")


async def test_search_empty_no_match_and_error_states(new_page: NewPage) -> None:
    page = await signed_in(new_page, web_person("dora"))
    await page.goto("/search")
    await page.get_by_text("Search the libraries and discussions").wait_for()
    await assert_accessible(page, "search-empty")
    await page.get_by_label("Words to find").fill(f"nothingmatches{secrets.token_hex(4)}")
    await page.get_by_label("Words to find").press("Enter")
    await page.get_by_text("Try fewer words").wait_for()
    await assert_accessible(page, "search-no-results")
    response = await page.goto("/search?q=")
    assert response is not None and response.status == 422
    await page.locator("#error-q").get_by_text("Enter the words to search for.").wait_for()
    await assert_accessible(page, "search-error")


async def test_collections_made_filled_and_reordered_by_the_facilitator(
    new_page: NewPage, gateway: httpx.AsyncClient, resources_view: AsyncDatabase[Doc]
) -> None:
    ana = web_person("ana")
    community_id = await community_with(gateway, resources_view, ana)
    for title in ("Alpha guide", "Beta guide"):
        made = await upload(gateway, ana, community_id, "g.pdf", sample_files.pdf(title), fields=metadata(title=title))
        assert made.status_code == 201, made.text
    page = await signed_in(new_page, ana)
    await page.goto(f"/communities/{community_id}/collections")
    await page.get_by_text("No collections yet.").wait_for()
    await page.get_by_role("button", name="Make the collection").click()
    await page.locator("#error-title").get_by_text("Enter title.").wait_for()
    await assert_accessible(page, "collections-error")
    await page.get_by_label("Title").fill("Starter pack")
    await page.get_by_role("button", name="Make the collection").click()
    await page.get_by_text("The collection is made.").wait_for()
    await page.get_by_text("This collection has no items yet.").wait_for()
    await assert_accessible(page, "collection-empty")
    for title in ("Alpha guide", "Beta guide"):
        await page.get_by_label("Library item").select_option(label=title)
        await page.get_by_role("button", name="Add to the collection").click()
        await page.locator(".collection-items").get_by_role("link", name=title).wait_for()
    items = page.locator(".collection-items h3")
    await expect(items).to_have_text(["Alpha guide", "Beta guide"])
    beta = page.locator(".collection-items li", has_text="Beta guide")
    await beta.get_by_role("button", name="Move up").click()
    await expect(items).to_have_text(["Beta guide", "Alpha guide"])
    await page.get_by_text("The collection is saved.").wait_for()
    await assert_accessible(page, "collection-full")
    await page.goto(f"/communities/{community_id}/collections")
    await page.get_by_role("link", name="Starter pack").wait_for()
    await assert_accessible(page, "collections-full")


async def test_a_facilitator_shares_an_item_with_a_partner_community(
    new_page: NewPage, gateway: httpx.AsyncClient, resources_view: AsyncDatabase[Doc]
) -> None:
    ana, dave, ben = web_person("ana"), web_person("dave"), web_person("ben")
    home = await community_with(gateway, resources_view, ana)
    partner = await community_with(gateway, resources_view, dave, ben)
    proposed = await gateway.post(
        f"/v1/communities/{home}/links", json={"to_community_id": partner, "share_resources": True}, headers=ana.headers
    )
    assert proposed.status_code == 201, proposed.text
    link_id = proposed.json()["id"]
    accepted = await gateway.post(f"/v1/communities/{partner}/links/{link_id}/accept", headers=dave.headers)
    assert accepted.status_code == 200, accepted.text

    async def link_known() -> bool:
        held = await resources_view.membership_links.find_one({"_id": link_id})
        return held is not None and bool(held.get("active"))

    await eventually(link_known, what="the link in the resources view")
    made = await upload(gateway, ana, home, "rota.pdf", sample_files.pdf("Rota"), fields=metadata(title="Shared rota"))
    assert made.status_code == 201, made.text

    page = await signed_in(new_page, ana)
    await page.goto(f"/resources/{made.json()['id']}")
    await page.get_by_label("Share with").select_option(value=partner)
    await page.get_by_role("button", name="Share", exact=True).click()
    await page.get_by_text("Shared with the partner community.").wait_for()
    await assert_accessible(page, "resource-shared")

    reader = await signed_in(new_page, ben)
    await reader.goto(f"/communities/{partner}/library")
    await reader.get_by_role("link", name="Shared rota").wait_for()

    await page.get_by_role("button", name="Stop sharing").click()
    await page.get_by_text("No longer shared with that community.").wait_for()
    await reader.reload()
    await reader.get_by_text("The library is empty so far.").wait_for()
