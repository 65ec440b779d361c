"""Moderating library items through the gateway: reports (who may, one open report per
person, the reporter never on the bus), the queue, hide/unhide/remove and who may act,
the log; bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.moderation import create_note, log, make_cast, moderate, partner_of, queue, report
from tests.support.api import problem, problem_fields
from tests.support.bus import wait_for_messages
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def test_members_report_moderators_see_the_queue_and_the_bus_never_names_the_reporter(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    cast = await make_cast(web, resources_db)
    item = await create_note(web, cast.community_id, cast.member)

    first = await report(web, cast.other_member, "resource", item["id"], "misinformation", "Out of date dosage")
    assert first.status_code == 201, first.text
    mine = first.json()
    assert mine["state"] == "open" and mine["reason"] == "misinformation"
    assert mine["content"] == {
        "kind": "resource",
        "id": item["id"],
        "community_id": cast.community_id,
        "thread_id": None,
    }
    again = await report(web, cast.other_member, "resource", item["id"], "spam")
    assert again.status_code == 200 and again.json()["id"] == mine["id"]  # one open report per person
    # Also when sent at once: the two transactions conflict on the content's queue entry.
    both = await asyncio.gather(*(report(web, cast.member, "resource", item["id"], "spam") for _ in range(3)))
    assert sorted(r.status_code for r in both) == [200, 200, 201]
    assert len({r.json()["id"] for r in both}) == 1
    second = await report(web, cast.facilitator, "resource", item["id"], "spam")
    assert second.status_code == 201, second.text

    for moderator in (cast.owner, cast.facilitator):
        page = await queue(web, moderator, cast.community_id)
        assert page.status_code == 200, page.text
        [entry] = page.json()["items"]
        assert entry["content"]["id"] == item["id"] and entry["open_reports"] == 3
        assert entry["reasons"] == {"misinformation": 1, "spam": 2}
        assert entry["preview"] == item["title"]
        reporters = [r["reporter_id"] for r in entry["reports"]]
        assert reporters == [cast.other_member.user_id, cast.member.user_id, cast.facilitator.user_id]
        assert entry["first_reported_at"] <= entry["last_reported_at"]
    problem(await queue(web, cast.member, cast.community_id), 403)
    problem(await queue(web, cast.outsider, cast.community_id), 403)
    problem(await log(web, cast.member, cast.community_id), 403)

    subject = f"weft.moderation.reported.v1.{cast.community_id}"
    messages = await wait_for_messages(nats_server.url, subject, at_least=3)
    assert len(messages) == 3
    for message in messages:
        assert message.body["data"]["content"]["id"] == item["id"]
        for reporter in (cast.other_member, cast.member, cast.facilitator):
            assert reporter.user_id.encode() not in message.raw
    assert {m.body["data"]["report_id"] for m in messages} == {mine["id"], both[0].json()["id"], second.json()["id"]}

    # The notifications service tells the moderators (not the members), without naming who reported.
    async def owner_told() -> list[Doc]:
        inbox = await web.get("/v1/me/notifications", headers=cast.owner.headers)
        assert inbox.status_code == 200, inbox.text
        return [n for n in inbox.json()["items"] if n["type"] == "content_reported"]

    told = await eventually(owner_told, what="the owner's notices of the reports")
    assert {n["target"]["resource_id"] for n in told} == {item["id"]}
    assert all(n["actor_id"] is None for n in told)
    for reporter in (cast.other_member, cast.member, cast.facilitator):
        assert reporter.user_id not in str(told)
    member_inbox = await web.get("/v1/me/notifications", headers=cast.other_member.headers)
    assert [n for n in member_inbox.json()["items"] if n["type"] == "content_reported"] == []


async def test_a_hidden_item_is_seen_by_moderators_only_until_unhidden(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    cast = await make_cast(web, resources_db)
    item = await create_note(web, cast.community_id, cast.member)
    assert (await report(web, cast.other_member, "resource", item["id"], "off_topic")).status_code == 201

    # Members and outsiders may not act: 403 for those who see it, 404 (not 403) for those who may not.
    problem(await moderate(web, cast.member, "resource", item["id"], "hide"), 403)
    problem(await moderate(web, cast.other_member, "resource", item["id"], "hide"), 403)
    problem(await moderate(web, cast.outsider, "resource", item["id"], "hide"), 404)

    hidden = await moderate(web, cast.facilitator, "resource", item["id"], "hide", "Off topic for this library")
    assert hidden.status_code == 200, hidden.text
    result = hidden.json()
    assert result["moderation"]["state"] == "hidden" and result["moderation"]["by"] == cast.facilitator.user_id
    assert result["reports_closed"] == 1
    problem(await moderate(web, cast.owner, "resource", item["id"], "hide"), 409)  # already hidden

    unknown = await web.get("/v1/resources/no-such-item", headers=cast.member.headers)
    gone = await web.get(f"/v1/resources/{item['id']}", headers=cast.member.headers)
    assert gone.status_code == 404 and gone.json()["detail"] == unknown.json()["detail"]
    assert (await web.get(f"/v1/resources/{item['id']}", headers=cast.member.headers)).status_code == 404
    assert (await web.get(f"/v1/resources/{item['id']}", headers=cast.owner.headers)).status_code == 200
    # Hidden content can no longer be acted on by members (they may not see it): the same 404.
    problem(await moderate(web, cast.member, "resource", item["id"], "unhide"), 404)
    problem(await report(web, cast.other_member, "resource", item["id"]), 404)
    assert (await queue(web, cast.owner, cast.community_id)).json()["items"] == []  # its report was closed

    shown = await moderate(web, cast.owner, "resource", item["id"], "unhide")
    assert shown.status_code == 200 and shown.json()["moderation"]["state"] == "visible"
    assert (await web.get(f"/v1/resources/{item['id']}", headers=cast.member.headers)).status_code == 200

    entries = (await log(web, cast.owner, cast.community_id)).json()["items"]
    assert [(e["action"], e["moderator_id"]) for e in entries] == [
        ("unhide", cast.owner.user_id),
        ("hide", cast.facilitator.user_id),
    ]
    assert entries[1]["reason"] == "Off topic for this library" and entries[1]["reports_closed"] == 1
    prefix = "weft.moderation"
    types = {m.type for m in await wait_for_messages(nats_server.url, f"{prefix}.*.v1.{cast.community_id}", at_least=3)}
    assert {"org.weft.moderation.hidden.v1", "org.weft.moderation.unhidden.v1"} <= types


async def test_removing_an_item_needs_a_reason_is_final_and_the_log_keeps_what_it_was(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    item = await create_note(web, cast.community_id, cast.member, title="Miracle cure")

    refused = await moderate(web, cast.owner, "resource", item["id"], "remove")
    assert "reason" in problem_fields(refused, 422)
    stored = await resources_db.resources.find_one({"_id": item["id"]})
    assert stored is not None and "moderation" not in stored  # nothing changed

    removed = await moderate(web, cast.owner, "resource", item["id"], "remove", "Dangerous misinformation")
    assert removed.status_code == 200, removed.text
    assert removed.json()["moderation"] == {
        "state": "removed",
        "by": cast.owner.user_id,
        "at": removed.json()["moderation"]["at"],
        "reason": "Dangerous misinformation",
    }
    assert (await web.get(f"/v1/resources/{item['id']}", headers=cast.member.headers)).status_code == 404
    problem(await moderate(web, cast.owner, "resource", item["id"], "unhide"), 409)  # removal is final
    problem(await moderate(web, cast.owner, "resource", item["id"], "dismiss"), 409)  # no open reports

    [entry] = (await log(web, cast.facilitator, cast.community_id)).json()["items"]
    assert entry["action"] == "remove" and entry["removed_content"]["title"] == "Miracle cure"


async def test_who_may_report_partners_yes_outsiders_and_the_banned_no(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    partner_owner = await partner_of(web, resources_db, cast)
    shared = await create_note(web, cast.community_id, cast.member, visibility="partners")
    own = await create_note(web, cast.community_id, cast.member)

    # A partner who reads a partners item may report it to its community's moderators...
    assert (await report(web, partner_owner, "resource", shared["id"], "personal_data")).status_code == 201
    # ...but may not act on it, and an item they may not see is a 404.
    problem(await moderate(web, partner_owner, "resource", shared["id"], "hide"), 403)
    problem(await report(web, partner_owner, "resource", own["id"]), 404)
    problem(await report(web, cast.outsider, "resource", shared["id"]), 404)
    problem(await queue(web, partner_owner, cast.community_id), 403)

    # A network item is seen by anyone signed in, but only members and partners report.
    network = await create_note(web, cast.community_id, cast.member, visibility="network")
    problem(await report(web, cast.outsider, "resource", network["id"]), 403)

    # A banned member can no longer report.
    banned = await web.delete(
        f"/v1/communities/{cast.community_id}/members/{cast.other_member.user_id}",
        params={"ban": "true"},
        headers=cast.owner.headers,
    )
    assert banned.status_code in (200, 204), banned.text

    async def ban_seen() -> bool:
        doc = await resources_db.membership_members.find_one(
            {"_id": f"{cast.community_id}:{cast.other_member.user_id}"}
        )
        return doc is not None and bool(doc.get("banned"))

    await eventually(ban_seen, what="the ban in the resources view")
    problem(await report(web, cast.other_member, "resource", network["id"]), 403)
    assert await resources_db.reports.count_documents({"reporter_id": cast.other_member.user_id}) == 0


async def test_a_hidden_communitys_content_is_unknown_to_outsiders(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db, visibility="hidden")
    item = await create_note(web, cast.community_id, cast.member)
    for response in (
        await report(web, cast.outsider, "resource", item["id"]),
        await moderate(web, cast.outsider, "resource", item["id"], "hide"),
        await queue(web, cast.outsider, cast.community_id),
        await log(web, cast.outsider, cast.community_id),
    ):
        problem(response, 404)
    unknown = await queue(web, cast.outsider, "no-such-community")
    assert problem(unknown, 404)["detail"] == (await queue(web, cast.outsider, cast.community_id)).json()["detail"]


async def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    item = await create_note(web, cast.community_id, cast.member)
    content = {"kind": "resource", "id": item["id"]}
    cases: list[tuple[Doc, str]] = [
        ({"content": {"kind": "post", "id": item["id"]}, "reason": "spam"}, "content.kind"),
        ({"content": {"kind": "resource", "id": {"$ne": None}}, "reason": "spam"}, "content.id"),
        ({"content": content, "reason": "rude"}, "reason"),
        ({"content": content, "reason": "spam", "details": "x" * 2001}, "details"),
        ({"content": content, "reason": "spam", "details": "bad\x00byte"}, "details"),
        ({"content": content, "reason": "spam", "reporter_id": "someone"}, "reporter_id"),
        ({"reason": "spam"}, "content"),
    ]
    for body, field in cases:
        response = await web.post("/v1/reports", json=body, headers=cast.other_member.headers)
        assert field in problem_fields(response, 422), (body, response.text)
    actions: list[tuple[Doc, str]] = [
        ({"content": content, "action": "delete"}, "action"),
        ({"content": content, "action": "hide", "reason": "x" * 2001}, "reason"),
        ({"content": content, "action": "remove", "reason": ""}, "reason"),
        ({"content": content, "action": "hide", "by": "me"}, "by"),
    ]
    for body, field in actions:
        response = await web.post("/v1/moderation/actions", json=body, headers=cast.owner.headers)
        assert field in problem_fields(response, 422), (body, response.text)
    bad_cursor = await queue(web, cast.owner, cast.community_id, cursor="not-a-cursor")
    assert "cursor" in problem_fields(bad_cursor, 400)
    assert await resources_db.reports.count_documents({"community_id": cast.community_id}) == 0
    assert await resources_db.moderation_log.count_documents({"community_id": cast.community_id}) == 0


async def test_the_queue_and_the_log_page_with_cursors(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    items = [await create_note(web, cast.community_id, cast.member) for _ in range(5)]
    for item in items:
        assert (await report(web, cast.other_member, "resource", item["id"])).status_code == 201
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await queue(web, cast.owner, cast.community_id, **params)).json()
        seen += [e["content"]["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [i["id"] for i in items]  # oldest report first

    for item in items:
        assert (await moderate(web, cast.owner, "resource", item["id"], "dismiss")).status_code == 200
    logged: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await log(web, cast.facilitator, cast.community_id, **params)).json()
        logged += [e["content"]["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert logged == [i["id"] for i in reversed(items)]  # newest first
    assert (await queue(web, cast.owner, cast.community_id)).json()["items"] == []
    # Dismissed: the item is unchanged and still seen by members.
    assert (await web.get(f"/v1/resources/{items[0]['id']}", headers=cast.member.headers)).status_code == 200
