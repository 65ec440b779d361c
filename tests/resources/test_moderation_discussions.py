"""Moderating discussions through the gateway: a hidden reply disappears for members and
stays for moderators, a removed one shows the placeholder, a locked thread refuses replies,
each action by moderator / member / outsider / partner, and banned members' posts."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import reply, start_thread
from tests.resources.library import ban, create_note
from tests.resources.moderation import log, make_cast, moderate, partner_of, queue, report
from tests.support.api import problem
from tests.support.bus import wait_for_messages

Doc = dict[str, Any]
REMOVED = "Removed by a moderator."


async def replies_seen_by(web: httpx.AsyncClient, thread_id: str, person: Any) -> list[Doc]:
    response = await web.get(f"/v1/threads/{thread_id}/replies", headers=person.headers)
    assert response.status_code == 200, response.text
    items: list[Doc] = response.json()["items"]
    return items


async def test_a_hidden_reply_disappears_for_members_and_stays_for_moderators(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    cast = await make_cast(web, resources_db)
    thread = await start_thread(web, cast.community_id, cast.member)
    kept = await reply(web, thread["id"], cast.member, "A kind reply")
    rude = await reply(web, thread["id"], cast.other_member, "A rude reply")
    assert (await report(web, cast.member, "reply", rude["id"], "harassment")).status_code == 201

    [entry] = (await queue(web, cast.facilitator, cast.community_id)).json()["items"]
    assert entry["content"] == {
        "kind": "reply",
        "id": rude["id"],
        "community_id": cast.community_id,
        "thread_id": thread["id"],
    }
    assert entry["preview"] == "A rude reply"

    problem(await moderate(web, cast.member, "reply", rude["id"], "hide"), 403)
    problem(
        await moderate(web, cast.outsider, "reply", rude["id"], "hide"), 404
    )  # threads are members' (and partners')
    hidden = await moderate(web, cast.facilitator, "reply", rude["id"], "hide", "Harassment")
    assert hidden.status_code == 200, hidden.text

    assert [r["id"] for r in await replies_seen_by(web, thread["id"], cast.member)] == [kept["id"]]
    assert [r["id"] for r in await replies_seen_by(web, thread["id"], cast.other_member)] == [kept["id"]]
    assert [r["id"] for r in await replies_seen_by(web, thread["id"], cast.owner)] == [kept["id"], rude["id"]]
    problem(await moderate(web, cast.member, "reply", rude["id"], "unhide"), 404)  # they no longer see it

    subject = f"weft.moderation.hidden.v1.{cast.community_id}"
    [message] = await wait_for_messages(nats_server.url, subject, at_least=1)
    assert message.body["data"]["content"]["thread_id"] == thread["id"]
    assert message.body["data"]["moderator_id"] == cast.facilitator.user_id
    reported = await wait_for_messages(nats_server.url, f"weft.moderation.reported.v1.{cast.community_id}", at_least=1)
    assert all(cast.member.user_id.encode() not in m.raw for m in reported)


async def test_a_removed_reply_shows_the_placeholder_and_the_log_keeps_its_words(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    thread = await start_thread(web, cast.community_id, cast.member)
    spam = await reply(web, thread["id"], cast.other_member, "Buy cheap pills at example.com")

    removed = await moderate(web, cast.owner, "reply", spam["id"], "remove", "Spam")
    assert removed.status_code == 200, removed.text
    # Members see it in its place as removed by a moderator: no text, no author.
    [seen] = await replies_seen_by(web, thread["id"], cast.member)
    assert seen["id"] == spam["id"] and seen["moderation_state"] == "removed"
    assert seen["body_markdown"] is None and seen["body_html"] is None and seen["author_id"] is None
    # Its moderators see the placeholder: the words are in the log only.
    [moderated] = await replies_seen_by(web, thread["id"], cast.owner)
    assert moderated["body_markdown"] == REMOVED and moderated["author_id"] == cast.other_member.user_id
    assert "pills" not in str(moderated)
    stored = await resources_db.replies.find_one({"_id": spam["id"]})
    assert stored is not None and "pills" not in str(stored)  # the text is not served from anywhere

    [entry] = (await log(web, cast.owner, cast.community_id)).json()["items"]
    assert entry["action"] == "remove" and entry["reason"] == "Spam"
    assert entry["removed_content"] == {"body_markdown": "Buy cheap pills at example.com"}
    problem(await report(web, cast.member, "reply", spam["id"]), 404)  # nothing left to report
    problem(await moderate(web, cast.owner, "reply", spam["id"], "hide"), 409)  # removal is final
    # Its author can neither write it back nor read its earlier words in the history: to all but
    # its moderators a removed reply is only its placeholder in the thread.
    author = cast.other_member.headers
    problem(await web.patch(f"/v1/replies/{spam['id']}", json={"body": "Back again"}, headers=author), 404)
    problem(await web.get(f"/v1/replies/{spam['id']}/history", headers=author), 404)
    # Nor can a moderator who wrote a removed reply edit it back.
    own = await reply(web, thread["id"], cast.owner, "Off topic, sorry")
    assert (await moderate(web, cast.owner, "reply", own["id"], "remove", "Off topic")).status_code == 200
    problem(await web.patch(f"/v1/replies/{own['id']}", json={"body": "Off topic"}, headers=cast.owner.headers), 409)
    assert (await resources_db.replies.find_one({"_id": own["id"]}) or {}).get("body_markdown") == REMOVED


async def test_a_locked_thread_refuses_replies_until_unlocked(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    cast = await make_cast(web, resources_db)
    thread = await start_thread(web, cast.community_id, cast.member)
    problem(await moderate(web, cast.member, "thread", thread["id"], "lock"), 403)
    problem(await moderate(web, cast.owner, "reply", thread["id"], "lock"), 404)  # no such reply
    locked = await moderate(web, cast.owner, "thread", thread["id"], "lock", "Cooling off")
    assert locked.status_code == 200 and locked.json()["locked"] is True

    refused = await web.post(
        f"/v1/threads/{thread['id']}/replies", json={"body": "But..."}, headers=cast.member.headers
    )
    problem(refused, 409)
    assert await resources_db.replies.count_documents({"thread_id": thread["id"]}) == 0
    problem(await web.put(f"/v1/threads/{thread['id']}/reactions/thanks", headers=cast.member.headers), 409)
    problem(await moderate(web, cast.owner, "thread", thread["id"], "lock"), 409)  # already locked

    unlocked = await moderate(web, cast.facilitator, "thread", thread["id"], "unlock")
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False
    await reply(web, thread["id"], cast.member, "Thanks for reopening")
    types = [
        m.type
        for m in await wait_for_messages(nats_server.url, f"weft.moderation.*.v1.{cast.community_id}", at_least=2)
    ]
    assert types == ["org.weft.moderation.thread_locked.v1", "org.weft.moderation.thread_unlocked.v1"]


async def test_a_removed_thread_is_gone_for_members_and_its_words_are_in_the_log(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    thread = await start_thread(web, cast.community_id, cast.member, title="Names and shames", body="Gossip")
    removed = await moderate(web, cast.facilitator, "thread", thread["id"], "remove", "Personal data")
    assert removed.status_code == 200, removed.text
    unknown = await web.get("/v1/threads/no-such-thread", headers=cast.other_member.headers)
    gone = await web.get(f"/v1/threads/{thread['id']}", headers=cast.other_member.headers)
    assert problem(gone, 404)["detail"] == problem(unknown, 404)["detail"]
    seen = await web.get(f"/v1/threads/{thread['id']}", headers=cast.owner.headers)
    assert seen.status_code == 200, seen.text
    assert seen.json()["title"] == REMOVED and seen.json()["moderation_state"] == "removed"
    assert "Gossip" not in seen.text and "Names and shames" not in seen.text
    [entry] = (await log(web, cast.owner, cast.community_id)).json()["items"]
    assert entry["removed_content"] == {"title": "Names and shames", "body_markdown": "Gossip"}


async def test_partners_report_threads_but_do_not_act_and_chatham_house_is_not_theirs(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    partner_owner = await partner_of(web, resources_db, cast)
    open_thread = await start_thread(web, cast.community_id, cast.member)
    private = await start_thread(web, cast.community_id, cast.member, chatham_house=True)
    assert (await report(web, partner_owner, "thread", open_thread["id"], "off_topic")).status_code == 201
    problem(await moderate(web, partner_owner, "thread", open_thread["id"], "lock"), 403)
    problem(await report(web, partner_owner, "thread", private["id"]), 404)
    problem(await moderate(web, partner_owner, "thread", private["id"], "hide"), 404)


async def test_banned_members_no_longer_post_or_report_and_their_posts_stay_theirs(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    thread = await start_thread(web, cast.community_id, cast.member)
    signed = await reply(web, thread["id"], cast.other_member, "Signed with my name")
    anonymous = await reply(web, thread["id"], cast.other_member, "Said anonymously", anonymous=True)

    await ban(web, resources_db, cast.community_id, cast.owner, cast.other_member)
    # They no longer see the community's threads: its ids are the same 404 as unknown ones.
    problem(await report(web, cast.other_member, "reply", signed["id"]), 404)
    refused = await web.post(
        f"/v1/threads/{thread['id']}/replies", json={"body": "Still here"}, headers=cast.other_member.headers
    )
    problem(refused, 404)

    by_id = {r["id"]: r for r in await replies_seen_by(web, thread["id"], cast.member)}
    assert cast.other_member.user_id in str(by_id[signed["id"]])  # still attributed
    assert cast.other_member.user_id not in str(by_id[anonymous["id"]])  # still anonymous


async def test_comments_on_a_library_item_follow_the_item(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    item = await create_note(web, cast.member, cast.community_id)
    posted = await web.post(
        f"/v1/resources/{item['id']}/comments", json={"body": "Off-topic advert"}, headers=cast.other_member.headers
    )
    assert posted.status_code == 201, posted.text
    comment = posted.json()
    assert (await report(web, cast.member, "reply", comment["id"], "spam")).status_code == 201
    hidden = await moderate(web, cast.facilitator, "reply", comment["id"], "hide")
    assert hidden.status_code == 200, hidden.text
    assert await replies_seen_by(web, comment["thread_id"], cast.member) == []
    assert [r["id"] for r in await replies_seen_by(web, comment["thread_id"], cast.owner)] == [comment["id"]]

    # Hiding the item hides its comments from members too: nothing of them can be reported or acted on.
    assert (await moderate(web, cast.owner, "resource", item["id"], "hide")).status_code == 200
    problem(await report(web, cast.member, "thread", comment["thread_id"]), 404)
    problem(await moderate(web, cast.member, "reply", comment["id"], "unhide"), 404)
    assert (await moderate(web, cast.owner, "reply", comment["id"], "unhide")).status_code == 200


async def test_an_accepted_answer_a_moderator_hides_is_no_longer_the_accepted_answer(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    question = await start_thread(web, cast.community_id, cast.member, kind="question")
    answer = await reply(web, question["id"], cast.other_member, "Try the falls bundle")
    accepted = await web.put(
        f"/v1/threads/{question['id']}/accepted-answer", json={"reply_id": answer["id"]}, headers=cast.member.headers
    )
    assert accepted.status_code == 200 and accepted.json()["accepted_reply_id"] == answer["id"], accepted.text

    assert (await moderate(web, cast.owner, "reply", answer["id"], "hide", "Wrong dose")).status_code == 200
    seen = await web.get(f"/v1/threads/{question['id']}", headers=cast.member.headers)
    assert seen.status_code == 200 and seen.json()["accepted_reply_id"] is None, seen.text
    assert answer["id"] not in seen.text  # nothing names the reply they may no longer see
