"""Unsubscribe links through the gateway, without a login: a signed token turns one
kind of mail off (to the inbox, not off), says what it turned off, and a tampered
or unknown token is a 404 that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.notifications.inboxes import notifications_db
from tests.support.api import Person, create_community, new_person, problem
from tests.support.waiting import eventually
from weft_notifications.domain.unsubscribe_tokens import UnsubscribeSubject, sign
from weft_notifications.settings import DEV_UNSUBSCRIBE_KEY, NotificationsSettings
from weft_shared.settings import PlatformSettings

__all__ = ["notifications_db"]  # the fixture, for this module's tests

PREFERENCES = "/v1/me/notification-preferences"


def link(person: Person, subject: str, community_id: str | None) -> str:
    return f"/v1/unsubscribe/{sign(DEV_UNSUBSCRIBE_KEY, UnsubscribeSubject(person.user_id, subject, community_id))}"


async def preferences(web: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    response = await web.get(PREFERENCES, headers=person.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def page_naming(web: httpx.AsyncClient, url: str, name: str) -> str | None:
    """The unsubscribe page, once the service's read model knows the community's name."""
    response = await web.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text if name in response.text else None


async def test_the_page_asks_then_its_button_turns_that_type_in_that_community_to_the_inbox(
    web: httpx.AsyncClient,
) -> None:
    ana = new_person("ana")
    falls = await create_community(web, ana, name="Falls Prevention")
    other = await create_community(web, ana)
    url = link(ana, "join_requested", falls["id"])

    page = await eventually(lambda: page_naming(web, url, "Falls Prevention"))
    # Opening the link (as a mail scanner does) changes nothing: the page asks, with a button.
    assert "Stop emails about new join requests in Falls Prevention?" in page
    assert f'<form method="post" action="{url}">' in page
    assert (await preferences(web, ana))["communities"] == {}

    pressed = await web.post(url, headers={"Accept": "text/html", "Content-Type": "application/x-www-form-urlencoded"})
    assert pressed.status_code == 200, pressed.text
    assert pressed.headers["content-type"].startswith("text/html")
    assert "You will no longer get emails about new join requests in Falls Prevention." in pressed.text
    assert "/v1/me/notification-preferences" in pressed.text
    body = await preferences(web, ana)
    assert body["communities"][falls["id"]]["effective"]["join_requested"] == "in_app"
    assert body["communities"][falls["id"]]["types"] == {"join_requested": "in_app"}
    assert body["defaults"]["join_requested"] == "email"  # other communities still mail
    assert other["id"] not in body["communities"]


async def test_one_click_post_answers_text_and_is_idempotent(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    url = link(ana, "reminder", None)
    answers = []
    for _ in range(2):
        response = await web.post(url, content=b"List-Unsubscribe=One-Click", headers={
            "Content-Type": "application/x-www-form-urlencoded"
        })  # fmt: skip
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        answers.append(response.text)
    assert answers[0] == answers[1] == "You will no longer get emails about event reminders.\n"
    body = await preferences(web, ana)
    assert body["defaults"]["reminder"] == "in_app" and body["communities"] == {}


async def test_a_digest_link_moves_what_went_to_that_digest_to_the_inbox(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    chosen = {
        "defaults": {"reminder": "digest_weekly"},
        "communities": {"c0ffee": {"types": {"join_requested": "digest_daily", "reminder": "digest_weekly"}}},
    }
    assert (await web.put(PREFERENCES, json=chosen, headers=ana.headers)).status_code == 200

    response = await web.post(link(ana, "digest_daily", None))
    assert response.status_code == 200 and response.text == "You will no longer get the daily digest email.\n"

    body = await preferences(web, ana)
    assert body["defaults"]["event_scheduled"] == "in_app"  # its default was the daily digest
    assert body["defaults"]["reminder"] == "digest_weekly"
    assert body["communities"]["c0ffee"]["types"] == {"join_requested": "in_app", "reminder": "digest_weekly"}


async def test_a_tampered_or_unknown_token_is_not_found_and_changes_nothing(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    before = await preferences(web, ana)
    good = link(ana, "join_requested", None)
    body, signature = good.rsplit("/", 1)[1].split(".")
    other = link(new_person("eve"), "join_requested", None).rsplit("/", 1)[1].split(".")
    forged = [
        f"/v1/unsubscribe/{body}.{signature[:-2]}AA",  # signature changed
        f"/v1/unsubscribe/{other[0]}.{signature}",  # someone else's body under Ana's signature
        f"/v1/unsubscribe/{body}",  # no signature
        "/v1/unsubscribe/nothing-we-made",
        f"/v1/unsubscribe/{sign('not-our-key', UnsubscribeSubject(ana.user_id, 'join_requested', None))}",
        f"/v1/unsubscribe/{'A' * 700}.{signature}",
    ]
    for url in forged:
        for method in ("GET", "POST"):
            found = problem(await web.request(method, url), 404)
            assert found["detail"] == "no such unsubscribe link"
    assert await preferences(web, ana) == before


def test_the_public_dev_key_is_refused_outside_dev() -> None:
    production = PlatformSettings(env="production", auth_signing_key="s" * 32)
    with pytest.raises(ValueError, match="UNSUBSCRIBE_KEY is the public dev key"):
        NotificationsSettings(platform=production)
    with pytest.raises(ValueError, match="at least 32 characters"):
        NotificationsSettings(platform=production, unsubscribe_key="short")
    assert NotificationsSettings(platform=production, unsubscribe_key="k" * 32).unsubscribe_key == "k" * 32


async def test_a_type_turned_off_stays_off(web: httpx.AsyncClient) -> None:
    """Unsubscribing lowers a mailing channel to the inbox; it never turns an `off` back on."""
    ana = new_person("ana")
    falls = await create_community(web, ana, name="Falls Prevention")
    chosen = {"communities": {falls["id"]: {"types": {"join_requested": "off"}}}}
    assert (await web.put(PREFERENCES, json=chosen, headers=ana.headers)).status_code == 200
    response = await web.post(link(ana, "join_requested", falls["id"]))
    assert response.status_code == 200, response.text
    body = await preferences(web, ana)
    assert body["communities"][falls["id"]]["types"] == {"join_requested": "off"}


async def test_an_address_with_no_account_that_unsubscribed_gets_no_more_invitations(
    web: httpx.AsyncClient, notifications_db: AsyncDatabase[dict[str, Any]]
) -> None:
    ana = new_person("ana")
    community = await create_community(web, ana, name="Stroke Rehab", join_policy="invite")
    cid = community["id"]
    quiet, other = f"quiet-{ana.user_id}@example.net", f"other-{ana.user_id}@example.net"
    token = sign(DEV_UNSUBSCRIBE_KEY, UnsubscribeSubject(f"mailto:{quiet}", "invitation_received", cid))
    assert (await web.post(f"/v1/unsubscribe/{token}")).status_code == 200

    for address in (quiet, other):
        invited = await web.post(f"/v1/communities/{cid}/invitations", json={"email": address}, headers=ana.headers)
        assert invited.status_code == 201, invited.text
    # The second invitation's mail is queued (so the first one was handled before it)...
    await eventually(lambda: notifications_db.email_outbox.find({"to": other}).to_list(), what="the other mail")
    # ...and the address that unsubscribed got none.
    assert await notifications_db.email_outbox.count_documents({"to": quiet}) == 0
