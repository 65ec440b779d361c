"""Notification preferences through the gateway: every value filled in, the whole
document replaced, and bad input refused with a 422 naming the field, changing nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Person, new_person, problem_fields

PATH = "/v1/me/notification-preferences"
TYPES = {
    "join_requested", "join_approved", "join_declined", "invitation_received", "role_changed", "removed",
    "code_of_conduct_published", "link_proposed", "link_accepted", "event_scheduled", "event_changed",
    "event_cancelled", "rsvp_promoted", "reminder", "webhook_disabled",
    "announcement_posted", "reply_posted", "answer_accepted", "content_reported", "review_due", "resource_endorsed",
    "export_ready", "export_incomplete",
}  # fmt: skip


async def preferences(web: httpx.AsyncClient, person: Person) -> dict[str, Any]:
    response = await web.get(PATH, headers=person.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_defaults_are_filled_in_and_mail_goes_to_the_tokens_address(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    body = await preferences(web, ana)
    assert set(body["defaults"]) == TYPES
    assert body["defaults"]["join_requested"] == "email" and body["defaults"]["event_scheduled"] == "digest_daily"
    assert body["communities"] == {}
    assert body["email"] is None and body["effective_email"] == ana.email
    assert (body["timezone"], body["digest_hour"], body["weekly_digest_day"]) == ("Europe/London", 8, "monday")
    assert {t["name"] for t in body["types"]} == TYPES
    assert all(t["about"] and t["default_channel"] for t in body["types"])
    assert body["channels"] == ["in_app", "email", "digest_daily", "digest_weekly", "off"]


async def test_put_replaces_the_document_and_is_idempotent(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    document = {
        "defaults": {"event_scheduled": "digest_weekly", "reminder": "in_app"},
        "communities": {
            "c0ffee": {"types": {"join_requested": "off"}},
            "deadbeef": {"muted": True},
        },
        "email": "ana@work.example",
        "timezone": "Asia/Tokyo",
        "digest_hour": 7,
        "weekly_digest_day": "friday",
    }
    answers = []
    for _ in range(2):
        response = await web.put(PATH, json=document, headers=ana.headers)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert answers[0] == answers[1] == await preferences(web, ana)
    body = answers[0]
    assert body["defaults"]["event_scheduled"] == "digest_weekly" and body["defaults"]["reminder"] == "in_app"
    assert body["defaults"]["join_requested"] == "email"  # not chosen: the catalogue's
    coffee = body["communities"]["c0ffee"]
    assert coffee["types"] == {"join_requested": "off"} and coffee["muted"] is False
    assert coffee["effective"]["join_requested"] == "off" and coffee["effective"]["reminder"] == "in_app"
    muted = body["communities"]["deadbeef"]["effective"]
    # A muted community sends nothing, except what is about the person themselves.
    assert muted["event_scheduled"] == "off" and muted["removed"] == "email" and muted["role_changed"] == "email"
    assert body["email"] == body["effective_email"] == "ana@work.example"
    assert (body["timezone"], body["digest_hour"], body["weekly_digest_day"]) == ("Asia/Tokyo", 7, "friday")

    # Replaced, not merged: what is left out goes back to its default.
    response = await web.put(PATH, json={"defaults": {"reminder": "off"}}, headers=ana.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["communities"] == {} and body["email"] is None and body["effective_email"] == ana.email
    assert body["defaults"]["event_scheduled"] == "digest_daily" and body["defaults"]["reminder"] == "off"
    assert body["timezone"] == "Europe/London"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"defaults": {"no_such_type": "email"}}, "defaults.no_such_type.[key]"),
        ({"defaults": {"reminder": "pigeon"}}, "defaults.reminder"),
        ({"defaults": {"reminder": {"$ne": None}}}, "defaults.reminder"),
        ({"communities": {"c0ffee": {"types": {"reminder": "sms"}}}}, "communities.c0ffee.types.reminder"),
        ({"communities": {"c0ffee": {"types": {"nope": "email"}}}}, "communities.c0ffee.types.nope.[key]"),
        ({"communities": {"c0ffee": {"muted": "yes"}}}, "communities.c0ffee.muted"),
        ({"communities": {"a.b": {"muted": True}}}, "communities.a.b.[key]"),
        ({"communities": {"$where": {"muted": True}}}, "communities.$where.[key]"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "../../../etc/passwd"}, "timezone"),
        ({"timezone": "Europe/London\n"}, "timezone"),
        ({"email": "not-an-address"}, "email"),
        ({"email": "ana@example"}, "email"),
        ({"email": "ana@exa mple.org"}, "email"),
        ({"digest_hour": 24}, "digest_hour"),
        ({"digest_hour": -1}, "digest_hour"),
        ({"digest_hour": "8"}, "digest_hour"),
        ({"weekly_digest_day": "caturday"}, "weekly_digest_day"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_bad_preferences_are_refused_naming_the_field_and_change_nothing(
    web: httpx.AsyncClient, document: dict[str, Any], field: str
) -> None:
    ana = new_person("ana")
    kept = {"defaults": {"reminder": "in_app"}, "timezone": "Europe/Lisbon"}
    assert (await web.put(PATH, json=kept, headers=ana.headers)).status_code == 200
    before = await preferences(web, ana)

    response = await web.put(PATH, json={**kept, **document}, headers=ana.headers)

    assert field in problem_fields(response, 422)
    assert await preferences(web, ana) == before


async def test_preferences_need_a_caller(web: httpx.AsyncClient) -> None:
    assert (await web.get(PATH)).status_code == 401
    assert (await web.put(PATH, json={})).status_code == 401
