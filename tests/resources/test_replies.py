"""Replies through the gateway: in order, pages by position, quotes with excerpts, edits
with history, a locked thread, and who may read and post (partners, banned members,
outsiders of a hidden community)."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import messages_about, reply, start_thread
from tests.resources.library import ban, circle, link
from tests.support.api import new_person, problem, problem_fields
from weft_cli.natsserver import NatsHandle

Doc = dict[str, Any]


class Tags(HTMLParser):
    """The tags and attributes a browser would build from the HTML (text is text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


async def test_replies_come_in_order_page_by_page_and_quote_with_an_excerpt(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db, members=2, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    long_text = "Handover works best when " + "everyone knows the plan " * 20
    first = await reply(web, thread["id"], c.members[1], long_text)
    posted = [first] + [await reply(web, thread["id"], c.owner, f"Point {n}") for n in range(2, 6)]
    quoting = await reply(web, thread["id"], c.member, "> quoted\n\nYes!", quotes_reply_id=first["id"])
    assert [r["position"] for r in [*posted, quoting]] == [1, 2, 3, 4, 5, 6]
    quote = quoting["quotes"]
    assert quote["reply_id"] == first["id"] and quote["position"] == 1 and quote["author_id"] == c.members[1].user_id
    assert quote["excerpt"].startswith("Handover works best when everyone") and quote["excerpt"].endswith("…")
    assert len(quote["excerpt"]) <= 161

    seen: list[Doc] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = await web.get(f"/v1/threads/{thread['id']}/replies", params=params, headers=c.members[1].headers)
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [r["id"] for r in seen] == [r["id"] for r in [*posted, quoting]]
    assert seen[-1]["quotes"]["excerpt"] == quote["excerpt"] and seen[0]["quotes"] is None

    stored = await resources_db.threads.find_one({"_id": thread["id"]})
    assert stored is not None and stored["reply_count"] == 6 and stored["last_reply_at"] is not None
    shown = await web.get(f"/v1/threads/{thread['id']}", headers=c.member.headers)
    assert shown.json()["reply_count"] == 6

    messages = await messages_about(nats_server.url, c.id, thread["id"], at_least=7)
    replies = [m.body["data"] for m in messages if m.type == "org.weft.discussion.reply_posted.v1"]
    assert [r["reply"]["id"] for r in replies] == [r["id"] for r in [*posted, quoting]]
    assert replies[-1]["reply"]["quotes_reply_id"] == first["id"]
    assert replies[-1]["reply"]["author_id"] == c.member.user_id and replies[-1]["thread"]["id"] == thread["id"]


async def test_bad_replies_are_refused_naming_the_field(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    other = await start_thread(web, c.id, c.member)
    elsewhere = await reply(web, other["id"], c.owner)
    url = f"/v1/threads/{thread['id']}/replies"
    cases: list[tuple[Doc, str]] = [
        ({"body": ""}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": "ok", "quotes_reply_id": elsewhere["id"]}, "quotes_reply_id"),
        ({"body": "ok", "quotes_reply_id": "unknown"}, "quotes_reply_id"),
        ({"body": "ok", "anonymous": 1}, "anonymous"),
        ({"body": "nul\x00"}, "body"),
    ]
    for body, field in cases:
        assert field in problem_fields(await web.post(url, json=body, headers=c.member.headers), 422), body
    assert await resources_db.replies.count_documents({"thread_id": thread["id"]}) == 0
    stored = await resources_db.threads.find_one({"_id": thread["id"]})
    assert stored is not None and stored["reply_count"] == 0
    problem(await web.post("/v1/threads/unknown/replies", json={"body": "x"}, headers=c.member.headers), 404)


async def test_scripts_in_markdown_are_sanitized(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="https://x.example" onclick="alert(1)">x</a>',
        "![x](https://img.example/a.png)",
    ]
    for text in payloads:
        posted = await reply(web, thread["id"], c.member, text)
        tags = Tags()
        tags.feed(posted["body_html"])
        assert "script" not in {t for t, _ in tags.found}, posted["body_html"]
        for _, attrs in tags.found:
            assert not any(name.startswith("on") for name, _ in attrs), posted["body_html"]
            urls = [value or "" for name, value in attrs if name in ("href", "src")]
            assert all(u.startswith("https://") for u in urls), posted["body_html"]
    link = await reply(web, thread["id"], c.member, "[site](https://example.org)")
    assert link["body_html"] == '<p><a href="https://example.org" rel="nofollow noopener noreferrer">site</a></p>\n'


async def test_replies_are_edited_by_their_author_with_history(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db, members=2, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    posted = await reply(web, thread["id"], c.members[1], "Frist")
    url = f"/v1/replies/{posted['id']}"
    problem(await web.patch(url, json={"body": "Mine now"}, headers=c.member.headers), 403)
    edited = await web.patch(url, json={"body": "First"}, headers=c.members[1].headers)
    assert edited.status_code == 200 and edited.json()["body_markdown"] == "First" and edited.json()["edited_at"]
    history = await web.get(f"{url}/history", headers=c.facilitator.headers)
    assert [(v["number"], v["body_markdown"], v["current"]) for v in history.json()["versions"]] == [
        (1, "Frist", False),
        (2, "First", True),
    ]
    problem(await web.get(f"{url}/history", headers=c.member.headers), 403)
    assert (await web.get(url, headers=c.member.headers)).json()["body_markdown"] == "First"
    messages = await messages_about(nats_server.url, c.id, thread["id"], at_least=3)
    assert [m.body["data"]["reply"]["id"] for m in messages if m.type.endswith("reply_edited.v1")] == [posted["id"]]


async def test_a_locked_thread_takes_no_reply(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    earlier = await reply(web, thread["id"], c.member)
    # Locking is the moderation routes' (another module); the stored flag is what posting reads.
    await resources_db.threads.update_one({"_id": thread["id"]}, {"$set": {"locked": True}})
    refused = await web.post(f"/v1/threads/{thread['id']}/replies", json={"body": "More"}, headers=c.member.headers)
    assert "locked" in problem(refused, 409)["detail"]
    problem(await web.patch(f"/v1/replies/{earlier['id']}", json={"body": "x"}, headers=c.member.headers), 409)
    assert await resources_db.replies.count_documents({"thread_id": thread["id"]}) == 1
    shown = await web.get(f"/v1/threads/{thread['id']}", headers=c.member.headers)
    assert shown.json()["locked"] is True and shown.json()["reply_count"] == 1


async def test_partners_read_but_do_not_post_and_banned_members_keep_their_posts(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=2, facilitators=1)
    partner = await circle(web, resources_db, members=1, facilitators=1)
    await link(web, resources_db, home, partner)
    thread = await start_thread(web, home.id, home.member)
    posted = await reply(web, thread["id"], home.members[1], "Before the ban")

    guest = partner.member
    assert (await web.get(f"/v1/threads/{thread['id']}", headers=guest.headers)).status_code == 200
    listed = await web.get(f"/v1/communities/{home.id}/threads", headers=guest.headers)
    assert [t["id"] for t in listed.json()["items"]] == [thread["id"]]
    problem(await web.post(f"/v1/threads/{thread['id']}/replies", json={"body": "x"}, headers=guest.headers), 403)
    problem(await web.put(f"/v1/threads/{thread['id']}/reactions/heart", headers=guest.headers), 403)
    problem(
        await web.post(
            f"/v1/communities/{home.id}/threads", json={"kind": "discussion", "title": "t", "body": "b"},
            headers=guest.headers,
        ),
        403,
    )  # fmt: skip

    banned = home.members[1]
    await ban(web, resources_db, home.id, home.owner, banned)
    # Banned, they no longer see its threads: the same 404 as for an id that names nothing.
    problem(await web.post(f"/v1/threads/{thread['id']}/replies", json={"body": "x"}, headers=banned.headers), 404)
    page = await web.get(f"/v1/threads/{thread['id']}/replies", headers=home.member.headers)
    [kept] = page.json()["items"]
    assert (
        kept["id"] == posted["id"] and kept["author_id"] == banned.user_id and kept["body_markdown"] == "Before the ban"
    )


async def test_a_hidden_communitys_threads_are_unknown_outside_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, visibility="hidden", facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    posted = await reply(web, thread["id"], c.member)
    outsider = new_person("outsider")
    for path, unknown in [
        (f"/v1/threads/{thread['id']}", "/v1/threads/000000000000000000000000"),
        (f"/v1/threads/{thread['id']}/replies", "/v1/threads/000000000000000000000000/replies"),
        (f"/v1/replies/{posted['id']}", "/v1/replies/000000000000000000000000"),
    ]:
        hidden, missing = (
            await web.get(path, headers=outsider.headers),
            await web.get(unknown, headers=outsider.headers),
        )
        problem(hidden, 404)
        assert {k: v for k, v in hidden.json().items() if k != "instance"} == {
            k: v for k, v in missing.json().items() if k != "instance"
        }
    listed = await web.get(f"/v1/communities/{c.id}/threads", headers=outsider.headers)
    unknown_list = await web.get("/v1/communities/000000000000000000000000/threads", headers=outsider.headers)
    problem(listed, 404)
    assert listed.json()["detail"] == unknown_list.json()["detail"]
    problem(await web.post(f"/v1/threads/{thread['id']}/replies", json={"body": "x"}, headers=outsider.headers), 404)


async def test_replies_racing_in_one_thread_take_one_position_each(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=3, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    people = [c.owner, c.facilitator, *c.members]
    posted = await asyncio.gather(*(reply(web, thread["id"], people[n % len(people)], f"Reply {n}") for n in range(10)))
    assert sorted(r["position"] for r in posted) == list(range(1, 11))
    stored = await resources_db.threads.find_one({"_id": thread["id"]})
    assert stored is not None and stored["reply_count"] == 10


async def test_a_retried_post_with_its_idempotency_key_makes_one_reply(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    thread = await start_thread(web, c.id, c.member)
    headers = {**c.member.headers, "Idempotency-Key": f"reply-{thread['id']}"}
    url = f"/v1/threads/{thread['id']}/replies"
    first = await web.post(url, json={"body": "Once"}, headers=headers)
    again = await web.post(url, json={"body": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await resources_db.replies.count_documents({"thread_id": thread["id"]}) == 1
