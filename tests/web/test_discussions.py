"""Discussions in the browser: threads, replies, anonymous questions, accepted answers,
reports and moderation, driven as the people would (three of them), on the real suite."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.support.api import Person, create_community, join
from tests.support.browser import PHONE, assert_accessible
from tests.support.waiting import eventually
from tests.support.web_pages import sign_in
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess
from weft_web.auth.dev_people import dev_subject

pytestmark = pytest.mark.timeout(300)


@dataclass(frozen=True)
class Circle:
    """A community with an owner (API only), a facilitator A, and members B and C."""

    id: str
    owner: Person
    facilitator: Person
    asker: Person
    member: Person


def person(name: str, tag: str) -> Person:
    email = f"{name.split()[0].lower()}.{tag}@example.org"
    return Person(user_id=dev_subject(email), email=email, name=name)


async def make_circle(gateway: ServiceProcess, **community: object) -> Circle:
    tag = secrets.token_hex(3)
    circle = Circle(
        id="",
        owner=person("Olu Owner", tag),
        facilitator=person("Ana Facilitator", tag),
        asker=person("Bea Asker", tag),
        member=person("Cal Member", tag),
    )
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as api:
        made = await create_community(api, circle.owner, **community)
        cid = made["id"]
        for someone in (circle.facilitator, circle.asker, circle.member):
            joined = await join(api, cid, someone)
            assert joined.status_code in (200, 201), joined.text
        promoted = await api.patch(
            f"/v1/communities/{cid}/members/{circle.facilitator.user_id}",
            json={"role": "facilitator"},
            headers=circle.owner.headers,
        )
        assert promoted.status_code == 200, promoted.text

        # The resources service learns memberships and roles from the bus: wait until it has.
        async def known() -> bool:
            queue = await api.get(f"/v1/communities/{cid}/moderation/queue", headers=circle.facilitator.headers)
            lists = [
                await api.get(f"/v1/communities/{cid}/threads", headers=p.headers)
                for p in (circle.asker, circle.member)
            ]
            return queue.status_code == 200 and all(r.status_code == 200 for r in lists)

        await eventually(known, what="the resources service to know the circle")
    return Circle(cid, circle.owner, circle.facilitator, circle.asker, circle.member)


async def signed_in(new_page: NewPage, someone: Person, **options: object) -> Page:
    page = await new_page(**options)
    await sign_in(page, someone.name, someone.email)
    # The boosted sign-in form may still be on its way when networkidle fires: wait for home.
    await expect(page.get_by_role("heading", name=f"Hello, {someone.name}")).to_be_visible()
    return page


async def post_thread(page: Page, circle: Circle, kind: str, title: str, body: str, *, anonymous: bool = False) -> str:
    await page.goto(f"/communities/{circle.id}/discussions")
    start = page.get_by_role("link", name="Start a discussion")
    assert await start.count() == 1, await page.locator("main").inner_text()
    await start.click()
    await page.get_by_label(kind, exact=True).check()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Message").fill(body)
    if anonymous:
        await page.get_by_label("Post anonymously (questions only)").check()
    await page.get_by_role("button", name="Post", exact=True).click()
    await expect(page.get_by_text("Your post is up.")).to_be_visible()
    return page.url.split("/threads/")[1].split("#")[0]


async def reply(page: Page, text: str) -> None:
    await page.get_by_label("Your reply").fill(text)
    await page.get_by_role("button", name="Post reply").click()
    await expect(page.get_by_text("Your reply is posted.")).to_be_visible()


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways on a 360 px screen ({width} px)"


async def post_form(page: Page, action: str) -> None:
    """Submit a POST with this page's CSRF token, as a crafted form would (no control needed)."""
    await page.evaluate(
        """(action) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = action;
            form.appendChild(document.querySelector('input[name=csrf_token]').cloneNode());
            document.body.appendChild(form);
            form.submit();
        }""",
        action,
    )
    await page.wait_for_load_state("networkidle")


async def test_anonymous_question_answer_report_and_hide(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    circle = await make_circle(gateway_service)
    asker = await signed_in(new_page, circle.asker)

    # B asks anonymously, after the form names what was missing.
    await asker.goto(f"/communities/{circle.id}/discussions")
    await expect(asker.get_by_text("No discussions yet.")).to_be_visible()
    await assert_accessible(asker, "discussions-empty")
    await asker.get_by_role("link", name="Start a discussion").click()
    await expect(asker.get_by_label("Announcement")).to_have_count(0)  # members may not announce
    await assert_accessible(asker, "thread-new")
    await asker.get_by_label("Discussion", exact=True).check()
    await asker.get_by_label("Post anonymously (questions only)").check()
    await asker.get_by_role("button", name="Post", exact=True).click()
    await expect(asker.locator("#error-title")).to_contain_text("Enter title.")
    await expect(asker.locator("#error-body")).to_contain_text("Enter message.")
    await expect(asker.locator("#error-anonymous")).to_contain_text("Only a question can be posted anonymously.")
    await assert_accessible(asker, "thread-new-errors")
    thread_id = await post_thread(
        asker, circle, "Question", "Falls after discharge?", "Who has a *checklist* for falls at home?", anonymous=True
    )
    await expect(asker.locator(".thread .byline")).to_contain_text("Anonymous member (you)")
    await assert_accessible(asker, "thread-empty")

    # C sees an anonymous member and no way to find out who; the route answers C "not found".
    member = await signed_in(new_page, circle.member)
    await member.goto(f"/threads/{thread_id}")
    await expect(member.locator(".thread .byline")).to_contain_text("Anonymous member")
    await expect(member.get_by_text(circle.asker.name)).to_have_count(0)
    await expect(member.get_by_role("button", name="Who wrote this?")).to_have_count(0)
    await reply(member, "We use the **FRAT** tool on the first visit.")
    await post_form(member, f"/threads/{thread_id}/author")
    await expect(member.get_by_role("heading", name="Page not found")).to_be_visible()

    # A, a facilitator, finds out who asked.
    facilitator = await signed_in(new_page, circle.facilitator)
    await facilitator.goto(f"/threads/{thread_id}")
    await facilitator.get_by_role("button", name="Who wrote this?").click()
    await expect(facilitator.locator(".revealed-author")).to_contain_text(circle.asker.name)
    await assert_accessible(facilitator, "thread-author-revealed")

    # B accepts C's answer, and thanks C in a reply that quotes it.
    await asker.goto(f"/threads/{thread_id}")
    await asker.get_by_role("button", name="Accept as the answer (reply 1)").click()
    await expect(asker.get_by_text("You marked the accepted answer.")).to_be_visible()
    accepted = asker.get_by_role("region", name="Accepted answer")
    await expect(accepted).to_contain_text("FRAT")
    await expect(accepted).to_contain_text(f"Answered by {circle.member.name}")
    await asker.get_by_role("link", name="Quote reply 1").click()
    await expect(asker.get_by_text(f"You are quoting {circle.member.name}")).to_be_visible()
    await reply(asker, "Thank you, buy my falls course at example.com!")
    await expect(asker.locator(".replies")).to_contain_text(f"Quoting {circle.member.name}")

    # C reacts, then reports B's reply (the reason is required).
    await member.goto(f"/threads/{thread_id}")
    thumbs = member.locator(".thread").get_by_role("button", name="Thumbs up")
    await thumbs.click()
    await expect(member.locator(".thread").get_by_role("button", name="Thumbs up")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(member.get_by_text("Accepted answer").first).to_be_visible()
    await assert_accessible(member, "thread-full")
    await member.get_by_role("link", name="Report reply 2").click()
    await member.get_by_role("heading", name="Report to the moderators").wait_for()
    await assert_accessible(member, "report")
    await member.get_by_role("button", name="Send report").click()
    await expect(member.locator("#error-reason")).to_contain_text("Choose why you are reporting it.")
    await assert_accessible(member, "report-errors")
    await member.get_by_label("Why are you reporting it?").select_option(label="Spam or advertising")
    await member.get_by_label("Details").fill("Selling a course.")
    await member.get_by_role("button", name="Send report").click()
    await expect(member.get_by_text("The community's moderators will look at it.")).to_be_visible()

    # A sees the case with its reason, is told a removal needs one, and hides the reply.
    facilitator.on("dialog", lambda dialog: dialog.accept())
    await facilitator.goto(f"/communities/{circle.id}/moderation")
    case = facilitator.locator(".case").first
    await expect(case).to_contain_text("Spam or advertising")
    await expect(case).to_contain_text("Selling a course.")
    await expect(case).to_contain_text(circle.member.name)
    await assert_accessible(facilitator, "moderation-full")
    await case.get_by_role("button", name="Remove").click()
    await expect(facilitator.locator(".case .error-message")).to_contain_text("Say why you are removing it")
    await assert_accessible(facilitator, "moderation-errors")
    await facilitator.locator(".case").first.get_by_role("button", name="Hide").click()
    await expect(facilitator.get_by_text("Hidden: only moderators see it now.")).to_be_visible()
    await expect(facilitator.get_by_text("Nothing is waiting: no open reports.")).to_be_visible()
    await assert_accessible(facilitator, "moderation-empty")

    # C no longer sees the hidden reply; A sees it marked; the log shows the action.
    await member.goto(f"/threads/{thread_id}")
    await expect(member.get_by_text("buy my falls course")).to_have_count(0)
    await expect(member.get_by_text("FRAT").first).to_be_visible()
    await facilitator.goto(f"/threads/{thread_id}")
    await expect(facilitator.get_by_text("Hidden by a moderator: only moderators see this reply.")).to_be_visible()
    await facilitator.goto(f"/communities/{circle.id}/moderation/log")
    row = facilitator.locator("table.log tbody tr").first
    await expect(row).to_contain_text("Hidden")
    await expect(row).to_contain_text(circle.facilitator.name)
    await assert_accessible(facilitator, "moderation-log")


async def test_post_a_thread_and_reply_without_javascript_on_a_phone(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    circle = await make_circle(gateway_service)
    asker = await signed_in(new_page, circle.asker, viewport=PHONE, javascript=False)
    thread_id = await post_thread(asker, circle, "Discussion", "Handover notes", "What goes in a good handover?")
    await no_sideways_scroll(asker)

    member = await signed_in(new_page, circle.member, viewport=PHONE, javascript=False)
    await member.goto(f"/communities/{circle.id}/discussions")
    await expect(member.get_by_role("link", name="Handover notes")).to_be_visible()
    await no_sideways_scroll(member)
    await member.get_by_role("link", name="Handover notes").click()
    await reply(member, "Allergies, mobility, and who to call.")
    await expect(member.get_by_text("Allergies, mobility, and who to call.")).to_be_visible()
    await no_sideways_scroll(member)

    # The replier corrects the reply; it says "edited" and the history keeps both texts.
    await member.get_by_role("link", name="Edit your reply").click()
    await member.get_by_label("Your reply").fill("Allergies, mobility, medicines, and who to call.")
    await member.get_by_role("button", name="Save changes").click()
    await expect(member.get_by_text("Your changes are saved.")).to_be_visible()
    await member.locator(".reply .byline").get_by_role("link", name="edited").click()
    await expect(member.get_by_text("Allergies, mobility, medicines, and who to call.")).to_be_visible()
    await expect(member.get_by_text("Allergies, mobility, and who to call.")).to_be_visible()
    await no_sideways_scroll(member)

    # The kind filter lists only what was asked for.
    await member.goto(f"/communities/{circle.id}/discussions")
    await member.get_by_role("link", name="Questions").click()
    await expect(member.get_by_text("No threads of this kind yet.")).to_be_visible()
    await member.get_by_role("link", name="All", exact=True).click()
    await expect(member.locator(".thread-item")).to_contain_text("1 reply")

    # axe runs inside the page, so the phone-sized pages are checked with JavaScript on.
    phone = await signed_in(new_page, circle.asker, viewport=PHONE)
    await phone.goto(f"/communities/{circle.id}/discussions")
    await no_sideways_scroll(phone)
    await assert_accessible(phone, "discussions-phone")
    await phone.goto(f"/threads/{thread_id}")
    await expect(phone.get_by_text("Allergies, mobility, medicines, and who to call.")).to_be_visible()
    await no_sideways_scroll(phone)
    await assert_accessible(phone, "thread-phone")


async def test_outsiders_get_not_found_and_bad_input_is_named(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    circle = await make_circle(gateway_service)
    asker = await signed_in(new_page, circle.asker)
    thread_id = await post_thread(asker, circle, "Discussion", "Rota swaps", "How do you swap shifts fairly?")

    outsider = await signed_in(new_page, person("Dee Outsider", secrets.token_hex(3)))
    for path in (f"/threads/{thread_id}", f"/communities/{circle.id}/moderation", f"/threads/{thread_id}/report"):
        await outsider.goto(path)
        await expect(outsider.get_by_role("heading", name="Page not found")).to_be_visible()
    await assert_accessible(outsider, "thread-not-found")
    await outsider.goto(f"/communities/{circle.id}/discussions")
    await expect(outsider.get_by_text("Only members of this community can read its discussions.")).to_be_visible()
    await expect(outsider.get_by_role("link", name="Rota swaps")).to_have_count(0)
    await expect(outsider.get_by_role("link", name="Start a discussion")).to_have_count(0)
    await assert_accessible(outsider, "discussions-members-only")

    # A member without moderator rights: the same page, and no Moderation tab.
    member = await signed_in(new_page, circle.member)
    await member.goto(f"/communities/{circle.id}/moderation")
    await expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
    await member.goto(f"/communities/{circle.id}/moderation/log")
    await expect(member.get_by_role("heading", name="Page not found")).to_be_visible()
    await member.goto(f"/communities/{circle.id}/discussions")
    await expect(member.get_by_role("link", name="Moderation")).to_have_count(0)

    # Too long a body, and a too long title, are named beside their fields.
    await member.get_by_role("link", name="Start a discussion").click()
    await member.get_by_label("Title").fill("T" * 201)
    await member.get_by_label("Message").fill("x" * 20_001)
    await member.get_by_role("button", name="Post", exact=True).click()
    await expect(member.locator("#error-title")).to_contain_text("Use at most 200 characters.")
    await expect(member.locator("#error-body")).to_contain_text("Use at most 20000 characters.")
    await expect(member.locator("#field-body")).to_have_attribute("aria-invalid", "true")

    # An empty reply is named beside the reply box.
    await member.goto(f"/threads/{thread_id}")
    await member.get_by_role("button", name="Post reply").click()
    await expect(member.locator("#error-body")).to_contain_text("Enter your reply.")
    await assert_accessible(member, "thread-reply-errors")


async def test_a_locked_thread_says_why_it_takes_no_reply(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    circle = await make_circle(gateway_service)
    facilitator = await signed_in(new_page, circle.facilitator)
    await facilitator.goto(f"/communities/{circle.id}/moderation/log")
    await expect(facilitator.get_by_text("No moderator has acted in this community yet.")).to_be_visible()
    await assert_accessible(facilitator, "moderation-log-empty")
    thread_id = await post_thread(facilitator, circle, "Announcement", "Ward closes Friday", "Move your visits.")
    await facilitator.get_by_role("button", name="Lock replies").click()
    await expect(facilitator.get_by_text("Locked: the thread takes no new replies.")).to_be_visible()

    member = await signed_in(new_page, circle.member)
    await member.goto(f"/threads/{thread_id}")
    await expect(member.get_by_text("A moderator locked this thread, so it takes no new replies.")).to_be_visible()
    await expect(member.get_by_role("button", name="Post reply")).to_have_count(0)
    await assert_accessible(member, "thread-locked")

    # Unlocking brings the form back; the author edits the post and the history keeps both texts.
    await facilitator.get_by_role("button", name="Unlock replies").click()
    await expect(facilitator.get_by_text("Unlocked: members can reply again.")).to_be_visible()
    await facilitator.get_by_role("link", name="Edit").first.click()
    await facilitator.get_by_label("Message").fill("Move your visits to Ward 5.")
    await facilitator.get_by_role("button", name="Save changes").click()
    await expect(facilitator.get_by_text("Your changes are saved.")).to_be_visible()
    await facilitator.locator(".thread .byline").get_by_role("link", name="edited").click()
    await expect(facilitator.get_by_text("Move your visits to Ward 5.")).to_be_visible()
    await expect(facilitator.get_by_text("Move your visits.", exact=True)).to_be_visible()
    await assert_accessible(facilitator, "thread-history")
    await member.goto(f"/threads/{thread_id}")
    await expect(member.get_by_role("button", name="Post reply")).to_be_visible()


async def test_a_library_items_comment_thread(new_page: NewPage, gateway_service: ServiceProcess) -> None:
    circle = await make_circle(gateway_service)
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as api:
        made = await api.post(
            f"/v1/communities/{circle.id}/resources",
            json={"kind": "note", "title": "Falls checklist", "text": "1. Lighting\n2. Rugs"},
            headers=circle.owner.headers,
        )
        assert made.status_code == 201, made.text
    resource_id = made.json()["id"]
    member = await signed_in(new_page, circle.member)
    await member.goto(f"/threads/comments-{resource_id}")
    await expect(member.get_by_role("link", name="Back to the library item")).to_have_attribute(
        "href", f"/resources/{resource_id}"
    )
    await expect(member.get_by_text("No replies yet.")).to_be_visible()

    # By keyboard only: type the comment, Tab past the anonymity box to the button, Enter.
    await member.get_by_label("Your reply").focus()
    await member.keyboard.type("Add night lights to the list. Ask for Mrs Smith in bed 4.")
    await member.keyboard.press("Tab")
    await member.keyboard.press("Tab")
    await expect(member.get_by_role("button", name="Post reply")).to_be_focused()
    await member.keyboard.press("Enter")
    await expect(member.get_by_text("Your reply is posted.")).to_be_visible()
    await expect(member.locator(".replies")).to_contain_text("Add night lights to the list.")
    await assert_accessible(member, "comments-thread")

    # Someone reports the patient's name; a facilitator removes the comment with a reason.
    replies = await _replies(gateway_service, f"comments-{resource_id}", circle.asker)
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as api:
        reported = await api.post(
            "/v1/reports",
            json={"content": {"kind": "reply", "id": replies[0]["id"]}, "reason": "personal_data"},
            headers=circle.asker.headers,
        )
        assert reported.status_code == 201, reported.text
    facilitator = await signed_in(new_page, circle.facilitator)
    facilitator.on("dialog", lambda dialog: dialog.accept())
    await facilitator.goto(f"/communities/{circle.id}/moderation")
    await expect(facilitator.get_by_role("heading", name="Reported content")).to_be_visible()
    main = await facilitator.locator("main").inner_text()
    assert "Personal or patient data" in main, main
    await facilitator.get_by_label("Reason for removing it").fill("Names a patient.")
    await facilitator.get_by_role("button", name="Remove").click()
    await expect(facilitator.get_by_text("Removed. What it said is kept in the moderation log.")).to_be_visible()
    await facilitator.get_by_role("link", name="Moderation log").click()
    row = facilitator.locator("table.log tbody tr").first
    await expect(row).to_contain_text("Removed")
    await expect(row).to_contain_text("Names a patient.")
    await member.goto(f"/threads/comments-{resource_id}")
    await expect(member.get_by_text("This reply was removed by a moderator.")).to_be_visible()
    await expect(member.get_by_text("Mrs Smith")).to_have_count(0)


async def _replies(gateway: ServiceProcess, thread_id: str, reader: Person) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as api:
        found = await api.get(f"/v1/threads/{thread_id}/replies", headers=reader.headers)
        assert found.status_code == 200, found.text
        items: list[dict[str, object]] = found.json()["items"]
        return items
