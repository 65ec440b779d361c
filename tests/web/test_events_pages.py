"""Event pages in a real browser: scheduling a hybrid event with a waitlist, RSVP, a
cancellation promoting the next person live, check-in at the door on a phone, the CPD
record and its CSV, the calendar feed; the 404 for people without rights."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Dialog, Page, expect

from tests.support.api import Person, create_community, join
from tests.support.browser import PHONE, assert_accessible
from tests.support.waiting import eventually
from tests.support.web_pages import sign_in
from tests.web.conftest import NewPage
from weft_cli.testing import ServiceProcess
from weft_web.auth.dev_people import dev_subject

pytestmark = pytest.mark.timeout(300)

LONDON = ZoneInfo("Europe/London")


def person(first: str, label: str) -> Person:
    email = f"{first.lower()}.{label}.{secrets.token_hex(3)}@example.org"
    name = f"{first} {label.title()}{secrets.token_hex(2)}"
    return Person(user_id=dev_subject(email), email=email, name=name)


def wall_clock(minutes_from_now: int) -> str:
    return (datetime.now(LONDON) + timedelta(minutes=minutes_from_now)).strftime("%Y-%m-%dT%H:%M")


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a 360 px screen ({width} px)"


def answer_dialogs(page: Page, answers: list[bool]) -> list[bool]:
    """Answer the page's confirm() dialogs in turn (True: OK); the list empties as they come."""

    async def on_dialog(dialog: Dialog) -> None:
        ok = answers.pop(0) if answers else False
        await (dialog.accept() if ok else dialog.dismiss())

    page.on("dialog", on_dialog)
    return answers


async def signed_in(new_page: NewPage, who: Person, **options: object) -> Page:
    page = await new_page(**options)
    await sign_in(page, who.name, who.email)
    return page


async def sees_event(gateway: httpx.AsyncClient, event_id: str, who: Person) -> bool:
    response = await gateway.get(f"/v1/events/{event_id}", headers=who.headers)
    return response.status_code == 200


async def test_waitlist_promotion_shows_live_and_the_door_checks_in(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    host, booker, waiter, outsider = (person(n, "events") for n in ("Hana", "Bram", "Cleo", "Dora"))
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as gateway:
        community = await create_community(gateway, host, name=f"Falls prevention {secrets.token_hex(3)}")
        for member in (booker, waiter):
            assert (await join(gateway, community["id"], member)).status_code == 201

        # The host schedules: bad input first, each message beside its field.
        host_page = await signed_in(new_page, host)
        await host_page.goto(f"/communities/{community['id']}/events")
        await assert_accessible(host_page, "events-community-empty")
        await host_page.get_by_role("link", name="Schedule an event").click()
        await host_page.get_by_label("Starts").fill(wall_clock(60))
        await host_page.get_by_label("Ends").fill(wall_clock(30))
        await host_page.get_by_label("How people attend").select_option("hybrid")
        await host_page.get_by_label("Places in the room").fill("-1")
        await host_page.get_by_role("button", name="Schedule the event").click()
        await expect(host_page.locator("#error-title")).to_contain_text("Enter title")
        await expect(host_page.locator("#error-ends_at")).to_contain_text("after the start")
        await expect(host_page.locator("#error-venue")).to_contain_text("needs one")
        await expect(host_page.locator("#error-joining_link")).to_contain_text("needs one")
        await expect(host_page.locator("#error-capacity_in_person")).to_contain_text("whole number")
        await expect(host_page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
        await assert_accessible(host_page, "events-schedule-errors")

        title = f"Falls clinic {secrets.token_hex(3)}"
        await host_page.get_by_label("Title").fill(title)
        await host_page.get_by_label("Description").fill("Case reviews and a short talk.")
        await host_page.get_by_label("Venue").fill("Ward 7 seminar room")
        await host_page.get_by_label("Joining link").fill("https://meet.example.org/falls")
        await host_page.get_by_label("Places in the room").fill("1")
        # What only the API knows to refuse (a start in the past) is shown beside its field too.
        await host_page.get_by_label("Starts").fill(wall_clock(-120))
        await host_page.get_by_label("Ends").fill(wall_clock(-60))
        await host_page.get_by_role("button", name="Schedule the event").click()
        await expect(host_page.locator("#error-starts_at")).to_contain_text("future")
        await host_page.get_by_label("Starts").fill(wall_clock(15))
        await host_page.get_by_label("Ends").fill(wall_clock(75))
        await host_page.get_by_role("button", name="Schedule the event").click()
        await host_page.get_by_text("The event is scheduled.").wait_for()
        event_id = host_page.url.rstrip("/").rsplit("/", 1)[-1]
        await assert_accessible(host_page, "events-event-host")
        for member in (booker, waiter):
            await eventually(lambda m=member: sees_event(gateway, event_id, m), what="the event reaching a member")

        # B books the one seat, on a phone without JavaScript.
        booker_page = await signed_in(new_page, booker, viewport=PHONE, javascript=False)
        await booker_page.goto(f"/events/{event_id}")
        # (axe runs in the page, so it checks pages with JavaScript on: the others below.)
        await booker_page.get_by_role("button", name="Book a place (in person)").click()
        await booker_page.get_by_text("You have a place (in person).").wait_for()
        await expect(booker_page.get_by_role("link", name="https://meet.example.org/falls")).to_be_visible()
        await no_sideways_scroll(booker_page)

        # C finds the room full, joins the waitlist, and keeps the page open (live).
        waiter_page = await signed_in(new_page, waiter)
        async with waiter_page.expect_response(lambda r: r.url.endswith("/live")):
            await waiter_page.goto(f"/events/{event_id}")
        await waiter_page.get_by_role("button", name="Join the waitlist (in person)").click()
        await waiter_page.get_by_text("You are number 1 on the waitlist (in person).").wait_for()
        await expect(waiter_page.get_by_text("0 places left in person")).to_be_visible()
        await expect(waiter_page.get_by_role("link", name="https://meet.example.org/falls")).to_have_count(0)
        await assert_accessible(waiter_page, "events-event-waitlisted")

        # The host sees the event listed, and both people on the attendees page.
        await host_page.goto(f"/communities/{community['id']}/events")
        await expect(host_page.get_by_role("link", name=title)).to_be_visible()
        await assert_accessible(host_page, "events-community-full")
        await host_page.goto(f"/events/{event_id}/attendees")
        await expect(host_page.get_by_role("cell", name=booker.name)).to_be_visible()
        await expect(host_page.get_by_role("cell", name=waiter.name)).to_be_visible()
        await assert_accessible(host_page, "events-attendees-full")

        # B cancels (a plain form without JavaScript): C's open page shows the place, no reload.
        await booker_page.get_by_role("button", name="Cancel my place").click()
        await booker_page.get_by_text("Your place is cancelled.").wait_for()
        await waiter_page.get_by_text("You have a place (in person).").wait_for(timeout=45_000)
        await expect(waiter_page.get_by_role("link", name="https://meet.example.org/falls")).to_be_visible()
        await assert_accessible(waiter_page, "events-event-promoted-live")

        # The host, on a phone at the door: search C's name (results as one types), one tap.
        door = await signed_in(new_page, host, viewport=PHONE)
        await door.goto(f"/events/{event_id}/check-in")
        await assert_accessible(door, "events-check-in-full")
        await door.get_by_label("Search a name").fill(waiter.name.split()[1])
        await expect(door.get_by_role("button", name=f"Check in {waiter.name}")).to_have_count(1)
        await expect(door.get_by_role("button", name=f"Check in {booker.name}")).to_have_count(0)
        await door.get_by_role("button", name=f"Check in {waiter.name}").click()
        await expect(door.locator(".door-done")).to_contain_text(waiter.name)
        await expect(door.locator(".door-done")).to_contain_text("Checked in at")
        await no_sideways_scroll(door)
        await assert_accessible(door, "events-check-in-done")

        # C's record shows the event and its hours; the CSV downloads.
        await waiter_page.goto("/me/attendance")
        await expect(waiter_page.get_by_role("link", name=title)).to_be_visible()
        await expect(waiter_page.get_by_text("1 event attended")).to_be_visible()
        await assert_accessible(waiter_page, "events-attendance-full")
        async with waiter_page.expect_download() as download_info:
            await waiter_page.get_by_role("link", name="Download as CSV").click()
        download = await download_info.value
        assert title in (await download.path()).read_text()

        # The month shows the event on its day.
        await waiter_page.goto(f"/events?month={wall_clock(15)[:7]}")
        await expect(waiter_page.get_by_role("table").get_by_role("link", name=title)).to_be_visible()
        await assert_accessible(waiter_page, "events-month-full")
        await waiter_page.goto("/events")
        await expect(waiter_page.get_by_role("link", name=title)).to_be_visible()
        await assert_accessible(waiter_page, "events-list-full")

        # Without rights: the same 404 as for nothing at all.
        outsider_page = await signed_in(new_page, outsider)
        for path in (f"/events/{event_id}", "/events/no-such-event"):
            response = await outsider_page.goto(path)
            assert response is not None and response.status == 404
            await expect(outsider_page.get_by_role("heading", name="Page not found")).to_be_visible()
        await assert_accessible(outsider_page, "events-event-not-found")
        response = await waiter_page.goto(f"/events/{event_id}/check-in")
        assert response is not None and response.status == 404


async def scheduled_event(gateway: httpx.AsyncClient, host: Person, community_id: str, title: str) -> str:
    """An in-person event 15 minutes from now, made through the API (not what these tests are about)."""
    start = datetime.now(LONDON) + timedelta(minutes=15)
    body = {
        "title": title,
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1, minutes=30)).isoformat(),
        "venue": "Day centre hall",
        "capacity": {"in_person": 10},
    }

    async def created() -> str | None:
        response = await gateway.post(f"/v1/communities/{community_id}/events", json=body, headers=host.headers)
        return str(response.json()["id"]) if response.status_code == 201 else None

    found: str = await eventually(created, what="the events service knowing the host")
    return found


async def test_rsvp_cancel_and_check_in_work_without_javascript_on_a_phone(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    host, member = person("Ines", "door"), person("Jon", "door")
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as gateway:
        community = await create_community(gateway, host)
        assert (await join(gateway, community["id"], member)).status_code == 201
        title = f"Carers' drop-in {secrets.token_hex(3)}"
        event_id = await scheduled_event(gateway, host, community["id"], title)
        await eventually(lambda: sees_event(gateway, event_id, member), what="the event reaching the member")

    host_page = await signed_in(new_page, host)
    await host_page.goto(f"/events/{event_id}/attendees")
    await expect(host_page.get_by_text("Nobody has booked a place yet.")).to_be_visible()
    await assert_accessible(host_page, "events-attendees-empty")
    await host_page.goto(f"/events/{event_id}/check-in")
    await assert_accessible(host_page, "events-check-in-empty")
    await host_page.get_by_label("Search a name").fill("nobody-by-this-name")
    await expect(host_page.get_by_text("Nobody called “nobody-by-this-name”")).to_be_visible()
    await assert_accessible(host_page, "events-check-in-no-match")

    phone = await signed_in(new_page, member, viewport=PHONE, javascript=False)
    await phone.goto(f"/events/{event_id}")
    await phone.get_by_role("button", name="Book a place (in person)").click()
    await phone.get_by_text("You have a place (in person).").wait_for()
    await phone.get_by_role("button", name="Cancel my place").click()
    await phone.get_by_text("Your place is cancelled.").wait_for()
    await expect(phone.get_by_text("You have not booked a place.")).to_be_visible()
    await phone.get_by_role("button", name="Book a place (in person)").click()
    await phone.get_by_text("You have a place (in person).").wait_for()
    await no_sideways_scroll(phone)

    # At the door without JavaScript: the search is a plain GET form, the tap a plain POST.
    door = await signed_in(new_page, host, viewport=PHONE, javascript=False)
    await door.goto(f"/events/{event_id}/check-in")
    await door.get_by_label("Search a name").fill(member.name.split()[0])
    await door.get_by_role("button", name="Search").click()
    await door.get_by_role("button", name=f"Check in {member.name}").click()
    await door.get_by_text(f"{member.name} is checked in.").wait_for()
    await expect(door.locator(".door-done")).to_contain_text("Checked in at")
    assert "q=Jon" in door.url
    await no_sideways_scroll(door)


async def test_hosts_edit_and_cancel_and_members_see_why_a_booking_failed(
    new_page: NewPage, gateway_service: ServiceProcess
) -> None:
    host, member = person("Kit", "host"), person("Lena", "member")
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=30) as gateway:
        community = await create_community(gateway, host)
        assert (await join(gateway, community["id"], member)).status_code == 201
        event_id = await scheduled_event(gateway, host, community["id"], f"Wound care {secrets.token_hex(3)}")
        await eventually(lambda: sees_event(gateway, event_id, member), what="the event reaching the member")

        # The member books with JavaScript: cancelling asks first, and "no" keeps the place.
        page = await signed_in(new_page, member)
        await page.goto(f"/events/{event_id}")
        await page.get_by_role("button", name="Book a place (in person)").focus()
        await page.keyboard.press("Enter")
        await page.get_by_text("You have a place (in person).").wait_for()
        async with page.expect_download() as ics_info:
            await page.get_by_role("link", name="Add to my calendar").click()
        ics = (await (await ics_info.value).path()).read_text()
        assert ics.startswith("BEGIN:VCALENDAR") and "Wound care" in ics
        answers = answer_dialogs(page, [False, True])
        await page.get_by_role("button", name="Cancel my place").click()
        await expect(page.get_by_text("You have a place (in person).")).to_be_visible()
        await page.get_by_role("button", name="Cancel my place").click()
        await page.get_by_text("Your place is cancelled.").wait_for()
        assert answers == [], "each cancel asked first"

        # The host changes the event: a bad value is named beside its field.
        host_page = await signed_in(new_page, host)
        await host_page.goto(f"/events/{event_id}")
        await host_page.get_by_role("link", name="Change the event").click()
        await host_page.get_by_label("Title").fill("")
        await host_page.get_by_label("Places in the room").fill("100001")
        await host_page.get_by_role("button", name="Save the changes").click()
        await expect(host_page.locator("#error-title")).to_contain_text("Enter title")
        await expect(host_page.locator("#error-capacity_in_person")).to_contain_text("whole number")
        await assert_accessible(host_page, "events-edit-errors")
        await host_page.get_by_label("Title").fill("Wound care, moved")
        await host_page.get_by_label("Places in the room").fill("5")
        await host_page.get_by_role("button", name="Save the changes").click()
        await host_page.get_by_text("The event is changed.").wait_for()
        await expect(host_page.get_by_role("heading", name="Wound care, moved")).to_be_visible()

        # The member's page is still open when the host cancels: booking then says why not.
        await page.goto(f"/events/{event_id}")
        answer_dialogs(host_page, [True])
        await host_page.get_by_role("button", name="Cancel the event").click()
        await host_page.get_by_text("The event is cancelled.").first.wait_for()
        await page.get_by_role("button", name="Book a place (in person)").click()
        await expect(page.get_by_role("alert")).to_contain_text("cancelled")
        await assert_accessible(page, "events-event-error")

        # Not a host: the host tools are the same 404 as nothing at all.
        for path in (f"/events/{event_id}/attendees", f"/events/{event_id}/edit", f"/events/{event_id}/check-in"):
            response = await page.goto(path)
            assert response is not None and response.status == 404


async def test_empty_pages_and_the_calendar_feed(new_page: NewPage) -> None:
    someone = person("Mo", "empty")
    page = await signed_in(new_page, someone)
    await page.goto("/events")
    await expect(page.get_by_text("No events are coming up in your communities.")).to_be_visible()
    await assert_accessible(page, "events-list-empty")
    await page.get_by_role("link", name="Month").click()
    await expect(page.get_by_text("0 events this month.")).to_be_visible()
    await page.get_by_role("link", name="Next month").click()
    await expect(page.get_by_role("heading", level=2)).to_have_text(
        (datetime.now(LONDON).replace(day=1) + timedelta(days=32)).strftime("%B %Y")
    )
    await assert_accessible(page, "events-month-empty")
    phone = await signed_in(new_page, someone, viewport=PHONE)
    await phone.goto("/events?month=2026-12")
    await expect(phone.get_by_role("heading", name="December 2026")).to_be_visible()
    await no_sideways_scroll(phone)
    await assert_accessible(phone, "events-month-phone")
    await page.goto("/me/attendance")
    await expect(page.get_by_text("Nothing yet")).to_be_visible()
    await assert_accessible(page, "events-attendance-empty")

    await page.goto("/me/calendar")
    await assert_accessible(page, "events-calendar-feed-empty")
    await page.get_by_role("button", name="Get my feed address").click()
    feed = page.get_by_label("Your feed address")
    await expect(feed).to_have_value(re.compile(r"/v1/calendar/[^/]+\.ics$"))
    await assert_accessible(page, "events-calendar-feed-shown")
    answer_dialogs(page, [True])
    await page.get_by_role("button", name="Revoke my feed address").click()
    await page.get_by_text("Your feed is revoked").wait_for()
