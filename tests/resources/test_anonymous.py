"""The safe space: anonymous questions and replies are shown without an author to
everyone (moderators ask the /author routes), their author sees them as theirs, no
message on the bus names them; Chatham House threads stay out of partner communities
and travel by id and title only."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.notifications.inboxes import of_type
from tests.resources.discussions import (
    circle,
    discussion_messages,
    link_sharing_resources,
    messages_about,
    reply,
    start_thread,
)
from tests.support.api import new_person, problem
from tests.support.bus import BusMessage
from tests.support.waiting import eventually
from weft_cli.natsserver import NatsHandle
from weft_shared.messaging.sealed import unseal
from weft_shared.settings import PlatformSettings

Doc = dict[str, Any]
HIDDEN_AUTHOR = {"author_id": None, "anonymous": True, "author_label": "Anonymous member"}


def author_of(view: Doc) -> Doc:
    return {k: view[k] for k in HIDDEN_AUTHOR}


async def test_anonymous_posts_name_nobody_but_to_the_communitys_moderators(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    c = await circle(web, resources_db, members=3)
    asker, helper, reader = c.members
    question = await start_thread(
        web, c.id, asker, kind="question", title="I made a dosing error", body="What now?", anonymous=True
    )
    assert author_of(question) == HIDDEN_AUTHOR and question["mine"] is True
    answer = await reply(web, question["id"], helper, "Tell your lead.", anonymous=True)
    second = await reply(web, question["id"], helper, "And write it up.", anonymous=True, quotes_reply_id=answer["id"])
    named = await reply(web, question["id"], reader, "Seconded.")

    for person in (reader, c.facilitator, c.owner, helper):
        shown = await web.get(f"/v1/threads/{question['id']}", headers=person.headers)
        assert author_of(shown.json()) == HIDDEN_AUTHOR and shown.json()["mine"] is False
        page = (await web.get(f"/v1/threads/{question['id']}/replies", headers=person.headers)).json()["items"]
        assert [author_of(r) for r in page[:2]] == [HIDDEN_AUTHOR, HIDDEN_AUTHOR]
        assert page[1]["quotes"]["author_id"] is None and page[1]["quotes"]["author_label"] == "Anonymous member"
        assert page[2]["author_id"] == reader.user_id
        assert [r["mine"] for r in page] == [person is helper, person is helper, person is reader]
        listed = await web.get(f"/v1/communities/{c.id}/threads", headers=person.headers)
        assert author_of(listed.json()["items"][0]) == HIDDEN_AUTHOR
        # Nothing a member is sent joins the two anonymous replies to one author.
        assert (
            helper.user_id not in (await web.get(f"/v1/threads/{question['id']}/replies", headers=person.headers)).text
        )
    assert (await web.get(f"/v1/threads/{question['id']}", headers=asker.headers)).json()["mine"] is True

    for moderator in (c.facilitator, c.owner):
        found = await web.get(f"/v1/threads/{question['id']}/author", headers=moderator.headers)
        assert found.json() == {"author_id": asker.user_id, "anonymous": True}
        found = await web.get(f"/v1/replies/{answer['id']}/author", headers=moderator.headers)
        assert found.json() == {"author_id": helper.user_id, "anonymous": True}
    for person in (reader, asker, helper):
        problem(await web.get(f"/v1/threads/{question['id']}/author", headers=person.headers), 403)
        problem(await web.get(f"/v1/replies/{answer['id']}/author", headers=person.headers), 403)
    stranger = new_person("stranger")
    problem(await web.get(f"/v1/threads/{question['id']}/author", headers=stranger.headers), 404)
    problem(await web.get(f"/v1/replies/{answer['id']}/author", headers=stranger.headers), 404)

    # The asker (by the stored author) edits and accepts; nothing names them on the bus.
    edited = await web.patch(f"/v1/threads/{question['id']}", json={"body": "What now, please?"}, headers=asker.headers)
    assert edited.status_code == 200 and author_of(edited.json()) == HIDDEN_AUTHOR
    problem(await web.patch(f"/v1/threads/{question['id']}", json={"body": "x"}, headers=reader.headers), 403)
    accepted = await web.put(
        f"/v1/threads/{question['id']}/accepted-answer", json={"reply_id": second["id"]}, headers=asker.headers
    )
    assert accepted.status_code == 200, accepted.text
    await web.patch(f"/v1/replies/{answer['id']}", json={"body": "Tell your lead today."}, headers=helper.headers)

    messages = await messages_about(nats_server.url, c.id, question["id"], at_least=7)
    assert sorted(m.type.split(".")[3] for m in messages) == sorted(
        ["thread_posted", "reply_posted", "reply_posted", "reply_posted", "thread_edited", "answer_accepted",
         "reply_edited"]
    )  # fmt: skip
    for message in messages:
        assert asker.user_id.encode() not in message.raw and helper.user_id.encode() not in message.raw, message.body
        assert message.body["data"]["thread"]["anonymous"] is True
        assert message.body["data"]["thread"]["author_id"] is None
    by_type = {m.type.split(".")[3]: m.body["data"] for m in messages}
    assert by_type["thread_edited"]["edited_by"] is None and by_type["answer_accepted"]["accepted_by"] is None
    assert by_type["answer_accepted"]["reply"] == {
        "id": second["id"],
        "thread_id": question["id"],
        "community_id": c.id,
        "anonymous": True,
        "author_id": None,
        "quotes_reply_id": answer["id"],
    }
    seconded = [m.body["data"]["reply"] for m in messages if m.body["data"].get("reply", {}).get("id") == named["id"]]
    assert seconded[0]["author_id"] == reader.user_id  # a named reply stays named

    # Whom the notices should reach travels sealed: the anonymous asker is told of replies.
    key = PlatformSettings(env="dev").sealing_key()

    def sealed(message: BusMessage) -> set[str]:
        return set(unseal(message.body["data"]["sealed_recipients"], key, message.body["id"]))

    posted = [m for m in messages if m.type.endswith("reply_posted.v1")]
    assert [sealed(m) for m in posted] == [
        {asker.user_id},
        {asker.user_id},
        {asker.user_id, helper.user_id},
    ]
    [accept] = [m for m in messages if m.type.endswith("answer_accepted.v1")]
    assert sealed(accept) == {helper.user_id}

    # The stored author is kept (moderation, the asker's rights), only never shown.
    stored = await resources_db.threads.find_one({"_id": question["id"]})
    assert stored is not None and stored["author_id"] == asker.user_id and stored["anonymous"] is True


async def test_chatham_house_threads_stay_home_and_travel_by_id_and_title(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: NatsHandle
) -> None:
    home, partner = await circle(web, resources_db), await circle(web, resources_db, members=1)
    await link_sharing_resources(web, resources_db, home, partner)
    closed = await start_thread(web, home.id, home.member, title="Off the record", chatham_house=True)
    open_thread = await start_thread(web, home.id, home.member, title="On the record")
    posted = await reply(web, closed["id"], home.members[1], "Said in the room")
    guest = partner.member

    problem(await web.get(f"/v1/threads/{closed['id']}", headers=guest.headers), 404)
    problem(await web.get(f"/v1/threads/{closed['id']}/replies", headers=guest.headers), 404)
    problem(await web.get(f"/v1/replies/{posted['id']}", headers=guest.headers), 404)
    listed = await web.get(f"/v1/communities/{home.id}/threads", headers=guest.headers)
    assert [t["id"] for t in listed.json()["items"]] == [open_thread["id"]]
    shown = await web.get(f"/v1/threads/{closed['id']}", headers=home.members[1].headers)
    assert shown.json()["chatham_house"] is True and shown.json()["author_id"] == home.member.user_id

    messages = await messages_about(nats_server.url, home.id, closed["id"], at_least=2)
    for message in messages:
        assert message.body["data"]["thread"] == {
            "id": closed["id"],
            "community_id": home.id,
            "kind": "discussion",
            "title": "Off the record",
            "chatham_house": True,
            "anonymous": False,
            "author_id": None,
            "resource_id": None,
        }
        assert home.member.user_id.encode() not in message.raw and home.members[1].user_id.encode() not in message.raw
    [replied] = [m.body["data"]["reply"] for m in messages if m.type.endswith("reply_posted.v1")]
    assert replied["author_id"] is None and replied["id"] == posted["id"]
    everything = await discussion_messages(nats_server.url, home.id)
    assert all(b"Said in the room" not in m.raw for m in everything)


async def test_the_anonymous_asker_is_told_of_replies_and_the_answerer_of_the_acceptance(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    """End to end through the notifications service: the sealed recipients open there."""
    c = await circle(web, resources_db, members=2)
    asker, helper = c.members
    question = await start_thread(web, c.id, asker, kind="question", title="Night shift handover?", anonymous=True)
    answer = await reply(web, question["id"], helper, "Use the board.", anonymous=True)
    accepted = await web.put(
        f"/v1/threads/{question['id']}/accepted-answer", json={"reply_id": answer["id"]}, headers=asker.headers
    )
    assert accepted.status_code == 200, accepted.text

    told = await eventually(lambda: of_type(web, asker, "reply_posted"), what="the asker's notice of the reply")
    assert told[0]["target"]["thread_id"] == question["id"]
    assert helper.user_id not in str(told[0]) and told[0].get("actor_id") is None
    thanked = await eventually(lambda: of_type(web, helper, "answer_accepted"), what="the answerer's notice")
    assert asker.user_id not in str(thanked[0])
    assert await of_type(web, helper, "reply_posted") == []  # never told of one's own reply
