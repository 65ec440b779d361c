"""Threads through the gateway: starting them (announcements for staff only), a community's
list newest activity first, editing with history, the accepted answer, reactions and
follows, and the messages each change sends."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import circle, messages_about, reply, start_thread
from tests.support.api import new_person, problem, problem_fields
from weft_cli.natsserver import NatsHandle

Doc = dict[str, Any]


async def test_members_start_threads_and_the_list_shows_the_newest_activity_first(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db)
    talk = await start_thread(web, c.id, c.member, title="Handover habits")
    ask = await start_thread(web, c.id, c.members[1], kind="question", title="Which SBAR template?")
    news = await start_thread(web, c.id, c.facilitator, kind="announcement", title="Meet-up moved")
    assert talk["author_id"] == c.member.user_id and talk["mine"] is True and talk["following"] is True
    assert talk["body_html"] == "<p>We use <em>SBAR</em>.</p>\n"
    refused = await web.post(
        f"/v1/communities/{c.id}/threads",
        json={"kind": "announcement", "title": "Mine", "body": "x"},
        headers=c.member.headers,
    )
    problem(refused, 403)

    await reply(web, talk["id"], c.members[1])  # activity: the discussion comes first again
    listed = await web.get(f"/v1/communities/{c.id}/threads", headers=c.member.headers)
    assert listed.status_code == 200, listed.text
    assert [t["id"] for t in listed.json()["items"]] == [talk["id"], news["id"], ask["id"]]
    first = listed.json()["items"][0]
    assert first["reply_count"] == 1 and first["last_reply_at"] == first["activity_at"]

    questions = await web.get(f"/v1/communities/{c.id}/threads", params={"kind": "question"}, headers=c.owner.headers)
    assert [t["id"] for t in questions.json()["items"]] == [ask["id"]]

    seen, cursor = [], None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await web.get(f"/v1/communities/{c.id}/threads", params=params, headers=c.member.headers)
        assert page.status_code == 200, page.text
        seen += [t["id"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [talk["id"], news["id"], ask["id"]]
    assert "cursor" in problem_fields(
        await web.get(f"/v1/communities/{c.id}/threads", params={"cursor": "nope"}, headers=c.member.headers), 400
    )

    [posted] = await messages_about(nats_server.url, c.id, news["id"], at_least=1)
    assert posted.type == "org.weft.discussion.thread_posted.v1"
    assert posted.body["data"]["thread"] == {
        "id": news["id"],
        "community_id": c.id,
        "kind": "announcement",
        "title": "Meet-up moved",
        "chatham_house": False,
        "anonymous": False,
        "author_id": c.facilitator.user_id,
        "resource_id": None,
    }


async def test_bad_thread_input_is_refused_naming_the_field_and_stores_nothing(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1)
    url = f"/v1/communities/{c.id}/threads"
    good = {"kind": "discussion", "title": "Fine", "body": "Fine"}
    cases: list[tuple[Doc, str]] = [
        ({**good, "body": ""}, "body"),
        ({**good, "body": "   "}, "body"),
        ({**good, "body": "x" * 20_001}, "body"),
        ({**good, "title": "two\nlines"}, "title"),
        ({**good, "kind": "poll"}, "kind"),
        ({**good, "kind": "comments"}, "kind"),
        ({**good, "anonymous": True}, "anonymous"),
        ({**good, "kind": "announcement", "anonymous": True}, "anonymous"),
        ({**good, "anonymous": "yes"}, "anonymous"),
        ({**good, "author_id": "someone"}, "author_id"),
        ({**good, "title": {"$ne": None}}, "title"),
    ]
    for body, field in cases:
        response = await web.post(url, json=body, headers=c.owner.headers)
        assert field in problem_fields(response, 422), (body, response.text)
    assert await resources_db.threads.count_documents({"community_id": c.id}) == 0
    listed = await web.get(url, headers=c.owner.headers)
    assert listed.json()["items"] == []


async def test_the_author_edits_and_the_history_keeps_each_text(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db)
    thread = await start_thread(web, c.id, c.member, title="First title", body="First text")
    url = f"/v1/threads/{thread['id']}"
    problem(await web.patch(url, json={"body": "Not mine"}, headers=c.members[1].headers), 403)
    assert "body" in problem_fields(await web.patch(url, json={"body": None}, headers=c.member.headers), 422)
    assert "body" in problem_fields(await web.patch(url, json={}, headers=c.member.headers), 422)

    edited = await web.patch(url, json={"title": "Second title"}, headers=c.member.headers)
    assert edited.status_code == 200, edited.text
    again = await web.patch(url, json={"body": "Third **text**"}, headers=c.member.headers)
    assert (
        again.json()["title"] == "Second title" and again.json()["body_html"] == "<p>Third <strong>text</strong></p>\n"
    )
    assert again.json()["edited_at"] is not None

    for reader in (c.member, c.facilitator, c.owner):
        history = await web.get(f"{url}/history", headers=reader.headers)
        assert history.status_code == 200, history.text
        versions = history.json()["versions"]
        assert [(v["number"], v["title"], v["body_markdown"], v["current"]) for v in versions] == [
            (1, "First title", "First text", False),
            (2, "Second title", "First text", False),
            (3, "Second title", "Third **text**", True),
        ]
    problem(await web.get(f"{url}/history", headers=c.members[1].headers), 403)

    messages = await messages_about(nats_server.url, c.id, thread["id"], at_least=3)
    edits = [m for m in messages if m.type == "org.weft.discussion.thread_edited.v1"]
    assert len(edits) == 2 and all(m.body["data"]["edited_by"] == c.member.user_id for m in edits)
    assert edits[-1].body["data"]["thread"]["title"] == "Second title"


async def test_the_asker_or_a_moderator_accepts_an_answer(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db, members=3)
    asker, answerer, other = c.members
    question = await start_thread(web, c.id, asker, kind="question", title="Which template?")
    answer = await reply(web, question["id"], answerer, "Use the trust's one.")
    url = f"/v1/threads/{question['id']}/accepted-answer"

    problem(await web.put(url, json={"reply_id": answer["id"]}, headers=other.headers), 403)
    elsewhere = await start_thread(web, c.id, other, kind="question")
    stray = await reply(web, elsewhere["id"], other)
    assert "reply_id" in problem_fields(await web.put(url, json={"reply_id": stray["id"]}, headers=asker.headers), 422)
    assert "reply_id" in problem_fields(await web.put(url, json={"reply_id": "unknown"}, headers=asker.headers), 422)
    assert "reply_id" in problem_fields(await web.put(url, json={}, headers=asker.headers), 422)
    talk = await start_thread(web, c.id, asker)
    talk_reply = await reply(web, talk["id"], answerer)
    problem(
        await web.put(
            f"/v1/threads/{talk['id']}/accepted-answer", json={"reply_id": talk_reply["id"]}, headers=asker.headers
        ),
        409,
    )

    accepted = await web.put(url, json={"reply_id": answer["id"]}, headers=asker.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted_reply_id"] == answer["id"]
    page = await web.get(f"/v1/threads/{question['id']}/replies", headers=other.headers)
    assert [r["accepted"] for r in page.json()["items"]] == [True]
    again = await web.put(url, json={"reply_id": answer["id"]}, headers=asker.headers)  # no second message
    assert again.status_code == 200

    cleared = await web.delete(url, headers=c.facilitator.headers)
    assert cleared.status_code == 200 and cleared.json()["accepted_reply_id"] is None
    by_moderator = await web.put(url, json={"reply_id": answer["id"]}, headers=c.facilitator.headers)
    assert by_moderator.json()["accepted_reply_id"] == answer["id"]

    messages = await messages_about(nats_server.url, c.id, question["id"], at_least=4)
    accepts = [m.body["data"] for m in messages if m.type == "org.weft.discussion.answer_accepted.v1"]
    assert [(a["reply"]["id"], a["reply"]["author_id"], a["accepted_by"]) for a in accepts] == [
        (answer["id"], answerer.user_id, asker.user_id),
        (answer["id"], answerer.user_id, c.facilitator.user_id),
    ]


async def test_reactions_count_once_per_person_and_emoji(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db)
    thread = await start_thread(web, c.id, c.member)
    answer = await reply(web, thread["id"], c.members[1])
    for target in (f"/v1/threads/{thread['id']}", f"/v1/replies/{answer['id']}"):
        for person in (c.member, c.member, c.owner):
            put = await web.put(f"{target}/reactions/thumbs_up", headers=person.headers)
            assert put.status_code == 200, put.text
        hearts = await web.put(f"{target}/reactions/heart", headers=c.member.headers)
        assert hearts.json() == {
            "reaction_counts": {"heart": 1, "thumbs_up": 2},
            "my_reactions": ["heart", "thumbs_up"],
        }
        assert "emoji" in problem_fields(await web.put(f"{target}/reactions/poop", headers=c.member.headers), 422)
        taken = await web.delete(f"{target}/reactions/thumbs_up", headers=c.member.headers)
        assert taken.json() == {"reaction_counts": {"heart": 1, "thumbs_up": 1}, "my_reactions": ["heart"]}
        twice = await web.delete(f"{target}/reactions/thumbs_up", headers=c.member.headers)
        assert twice.json()["reaction_counts"] == {"heart": 1, "thumbs_up": 1}
    shown = await web.get(f"/v1/threads/{thread['id']}", headers=c.owner.headers)
    assert shown.json()["my_reactions"] == ["thumbs_up"] and shown.json()["reaction_counts"]["thumbs_up"] == 1
    page = await web.get(f"/v1/threads/{thread['id']}/replies", headers=c.member.headers)
    assert page.json()["items"][0]["my_reactions"] == ["heart"]


async def test_posting_follows_and_a_member_may_stop_following(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db)
    thread = await start_thread(web, c.id, c.member)
    url = f"/v1/threads/{thread['id']}"
    assert (await web.get(url, headers=c.members[1].headers)).json()["following"] is False
    await reply(web, thread["id"], c.members[1])
    assert (await web.get(url, headers=c.members[1].headers)).json()["following"] is True
    stopped = await web.delete(f"{url}/follow", headers=c.members[1].headers)
    assert stopped.json() == {"following": False}
    assert (await web.get(url, headers=c.members[1].headers)).json()["following"] is False
    assert (await web.put(f"{url}/follow", headers=c.owner.headers)).json() == {"following": True}
    followers = await resources_db.thread_follows.find({"thread_id": thread["id"]}).to_list()
    assert sorted(f["user_id"] for f in followers) == sorted([c.member.user_id, c.owner.user_id])
    stranger = new_person("stranger")
    problem(await web.put(f"{url}/follow", headers=stranger.headers), 404)
