"""The library's and the discussions' notices, on real servers: a notifications process
of the test's own fed with messages published to NATS the way the resources service
publishes them (CloudEvents envelopes from `MessageFactory`, sealed recipients sealed
with the message's own id), each one twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import nats
import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import StartService
from tests.notifications.test_fanout_reliability import Feed, created, fresh, joined, start_notifications
from tests.support.api import Person
from tests.support.isolated import isolated
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.sample_messages import sample_community, sample_reply, sample_resource, sample_thread
from weft_shared.contracts import membership as mb
from weft_shared.contracts import resources as rs
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import new_message_id
from weft_shared.messaging.outbox import MessageFactory
from weft_shared.messaging.sealed import seal

Doc = dict[str, Any]
RESOURCES = "/weft/resources"


@pytest.fixture
async def feed(nats_server: Any, database: Any) -> AsyncIterator[Feed]:
    """The test's own stream, subject prefix and database (as in the fan-out reliability tests)."""
    async with isolated(nats_server.url, database.url, "notifications") as env:
        nc = await nats.connect(nats_server.url)
        try:
            service_env = {
                "WEFT_STREAM_NAME": env.platform.stream_name,
                "WEFT_SUBJECT_PREFIX": env.platform.subject_prefix,
                "WEFT_NOTIFICATIONS_DATABASE": env.db.name,
                "WEFT_NOTIFICATIONS_CONSUMER_NAME": "notifications",
            }
            yield Feed(env.platform, env.db, nc.jetstream(), service_env)
        finally:
            await nc.close()


async def publish(feed: Feed, payload: MessagePayload, community_id: str, message_id: str, *, times: int = 2) -> str:
    """As the resources service's outbox relay would, `times` times (a redelivery each)."""
    announcement = MessageFactory(feed.platform, RESOURCES).announcement(
        payload, community_id=community_id, message_id=message_id
    )
    for _ in range(times):
        await feed.js.publish(announcement.subject, orjson.dumps(announcement.body), stream=feed.platform.stream_name)
    return message_id


async def send(feed: Feed, payload: MessagePayload, community_id: str) -> str:
    return await publish(feed, payload, community_id, new_message_id())


async def send_sealed(
    feed: Feed, build: Any, community_id: str, told: list[str], *, sealed_for: str | None = None
) -> str:
    """`build(sealed)` makes the payload; `told` are sealed with its message id (or,
    to forge one, with `sealed_for`'s)."""
    message_id = new_message_id()
    sealed = seal(told, feed.platform.sealing_key(), sealed_for or message_id)
    return await publish(feed, build(sealed), community_id, message_id)


async def items_of(feed: Feed, user_id: str) -> list[Doc]:
    return await feed.db.inbox.find({"user_id": user_id}).sort("seq", 1).to_list()


async def assert_told(feed: Feed, expected: dict[str, list[str]]) -> None:
    for user_id, types in expected.items():
        assert sorted(d["type"] for d in await items_of(feed, user_id)) == sorted(types), user_id
        counter = await feed.db.inbox_counters.find_one({"_id": user_id}) or {"unread": 0, "seq": 0}
        assert counter["unread"] == counter["seq"] == len(types), (user_id, counter)


async def one_item(feed: Feed, user_id: str, notification_type: str) -> Doc:
    [item] = await feed.db.inbox.find({"user_id": user_id, "type": notification_type}).to_list()
    return item


async def seed(feed: Feed, messages: list[tuple[MessagePayload, str]]) -> None:
    await feed.handled(await feed.send_many(messages))


def linked(link_id: str, one: str, other: str, by: str) -> mb.LinkAccepted:
    facts = mb.LinkFacts(
        link_id=link_id, from_community_id=one, to_community_id=other, share_events=False, share_resources=True
    )
    return mb.LinkAccepted(link=facts, accepted_by=by)


async def test_each_message_twice_tells_whom_the_rules_say_once(start_service: StartService, feed: Feed) -> None:
    start_notifications(start_service, feed)
    u = fresh("lib")
    c1, c2 = u("c1"), u("c2")
    o1, f1, m1, m2, m3, x1, o2, p1, s1 = (u(n) for n in ("o1", "f1", "m1", "m2", "m3", "x1", "o2", "p1", "s1"))
    await seed(
        feed,
        [
            (created(c1, "Falls North", o1), c1),
            (created(c2, "Falls South", o2), c2),
            (joined(c1, o1, "owner"), c1),
            (joined(c1, f1, "facilitator"), c1),
            *((joined(c1, m), c1) for m in (m1, m2, m3, x1)),
            (mb.MemberLeft(community_id=c1, user_id=x1, role="member"), c1),
            (joined(c2, o2, "owner"), c2),
            (joined(c2, p1), c2),
            (linked(u("link"), c1, c2, o2), c1),
        ],
    )

    announcement = sample_thread(u("t1"), c1, f1, kind="announcement", title="Winter rota")
    question = sample_thread(u("t2"), c1, None, kind="question", title="Bed alarms at night?")  # asked by m1
    chatham = sample_thread(u("t3"), c1, None, title="Safe staffing", chatham_house=True)
    answer = sample_reply(u("r1"), question, m2)
    whisper = sample_reply(u("r2"), chatham, None)
    item = sample_resource(u("res1"), c1, m3, summary="A one-page checklist for a falls risk assessment at home.")
    draft = sample_resource(u("res2"), c1, m3, status="draft")
    review_by = datetime(2027, 3, 1, tzinfo=UTC)
    ids = [
        await send(feed, rs.ThreadPosted(thread=announcement), c1),
        await send(feed, rs.ThreadPosted(thread=sample_thread(u("t4"), c1, m2)), c1),  # not news for everyone
        # The anonymous asker m1, a partner (p1), a leaver (x1) and a stranger (s1) are sealed in.
        await send_sealed(
            feed, lambda s: rs.ReplyPosted(thread=question, reply=answer, sealed_recipients=s), c1, [m1, p1, x1, s1]
        ),
        # A Chatham House thread never reaches a partner.
        await send_sealed(
            feed, lambda s: rs.ReplyPosted(thread=chatham, reply=whisper, sealed_recipients=s), c1, [m1, o1, p1]
        ),
        await send_sealed(
            feed,
            lambda s: rs.AnswerAccepted(thread=question, reply=answer, accepted_by=None, sealed_recipients=s),
            c1,
            [m2],
        ),
        await send(
            feed,
            rs.ContentReported(
                report_id=u("rep1"),
                content=rs.ContentRef(kind="reply", id=answer.id, community_id=c1, thread_id=question.id),
            ),
            c1,
        ),
        await send(
            feed,
            rs.ResourceReviewDue(resource=item.model_copy(update={"review_by": review_by}), review_by=review_by),
            c1,
        ),
        await send(feed, rs.ResourceEndorsed(resource=item.model_copy(update={"endorsed": True}), endorsed_by=f1), c1),
        await send(feed, rs.ResourceEndorsed(resource=draft, endorsed_by=f1), c1),  # members cannot see a draft
        # Sealed for another message: it does not open here, and nobody is told from it.
        await send_sealed(
            feed,
            lambda s: rs.ReplyPosted(thread=question, reply=sample_reply(u("r3"), question, m3), sealed_recipients=s),
            c1,
            [m1],
            sealed_for=new_message_id(),
        ),
    ]
    await feed.handled(ids)

    await assert_told(
        feed,
        {
            o1: ["announcement_posted", "reply_posted", "content_reported", "review_due", "resource_endorsed"],
            f1: ["content_reported", "review_due"],
            m1: ["announcement_posted", "reply_posted", "reply_posted", "resource_endorsed"],
            m2: ["announcement_posted", "answer_accepted", "resource_endorsed"],
            m3: ["announcement_posted", "resource_endorsed"],
            p1: ["reply_posted"],
            x1: [],
            s1: [],
            o2: [],
        },
    )

    told = await one_item(feed, o1, "announcement_posted")
    assert told["title"] == "Announcement in Falls North: Winter rota"
    assert told["text"] == f"{f1.title()} posted an announcement for every member of Falls North."
    assert told["actor_id"] == f1 and told["target"] == {"community_id": c1, "thread_id": announcement.id}

    replies = {d["target"]["thread_id"]: d for d in await items_of(feed, m1) if d["type"] == "reply_posted"}
    to_asker, in_chatham = replies[question.id], replies[chatham.id]
    assert to_asker["title"] == "New reply to “Bed alarms at night?”"
    assert to_asker["text"] == f"{m2.title()} replied to the question “Bed alarms at night?” in Falls North."
    assert to_asker["target"] == {"community_id": c1, "thread_id": question.id, "reply_id": answer.id}
    # Chatham House: the title only, no name, no actor.
    assert in_chatham["title"] == "New reply to “Safe staffing”"
    assert in_chatham["text"] == "There is a new reply in “Safe staffing”." and in_chatham["actor_id"] is None

    accepted = await one_item(feed, m2, "answer_accepted")
    assert accepted["text"] == "An anonymous member accepted your answer to “Bed alarms at night?”."
    assert accepted["actor_id"] is None

    reported = await one_item(feed, f1, "content_reported")
    assert reported["title"] == "A reply was reported in Falls North" and reported["actor_id"] is None
    assert reported["target"] == {
        "community_id": c1,
        "report_id": u("rep1"),
        "reply_id": answer.id,
        "thread_id": question.id,
    }
    due = await one_item(feed, f1, "review_due")
    assert due["title"] == "Review due: Falls risk checklist" and "01 Mar 2027" in due["text"]
    assert due["target"] == {"community_id": c1, "resource_id": item.id}

    endorsed = await one_item(feed, m1, "resource_endorsed")
    assert endorsed["title"] == "Recommended in Falls North: Falls risk checklist"
    assert endorsed["text"].startswith(
        f"{f1.title()} recommended “Falls risk checklist” to the members of Falls North."
    )
    # Digest-only by default: in the inbox, listed in the weekly digest, never a mail of its own.
    assert endorsed["channel"] == "digest_weekly"
    assert (await one_item(feed, m1, "announcement_posted"))["channel"] == "email"
    assert to_asker["channel"] == "in_app"

    mailed = await feed.db.inbox.find({"channel": "email", "user_id": {"$in": [o1, f1, m1, m2, m3]}}).to_list()
    records = await feed.db.email_outbox.find({}).to_list()
    assert sorted(r["_id"] for r in records) == sorted(d["_id"] for d in mailed)
    assert {d["type"] for d in mailed} == {"announcement_posted", "content_reported", "review_due"}
    assert await feed.dead_letters() == 0


async def test_a_hidden_community_is_named_only_to_its_members(start_service: StartService, feed: Feed) -> None:
    """A partner told of a reply while the community was visible loses the item when it
    becomes hidden; once hidden, its threads reach only its members."""
    start_notifications(start_service, feed)
    u = fresh("hidden")
    c1, c2 = u("c1"), u("c2")
    o1, m1, o2, p1 = (u(n) for n in ("o1", "m1", "o2", "p1"))
    await seed(
        feed,
        [
            (created(c1, "Quiet Room", o1), c1),
            (created(c2, "Open Door", o2), c2),
            (joined(c1, o1, "owner"), c1),
            (joined(c1, m1), c1),
            (joined(c2, o2, "owner"), c2),
            (joined(c2, p1), c2),
            (linked(u("link"), c1, c2, o2), c1),
        ],
    )
    thread = sample_thread(u("t1"), c1, o1, title="Handover notes")
    first = await send_sealed(
        feed,
        lambda s: rs.ReplyPosted(thread=thread, reply=sample_reply(u("r1"), thread, o1), sealed_recipients=s),
        c1,
        [m1, p1],
    )
    await feed.handled([first])
    await assert_told(feed, {m1: ["reply_posted"], p1: ["reply_posted"]})

    hidden = sample_community(c1, "Quiet Room").model_copy(update={"visibility": "hidden"})
    went_hidden = await send(feed, mb.CommunityUpdated(community=hidden, changed=["visibility"], updated_by=o1), c1)
    await feed.handled([went_hidden])
    assert [d["type"] for d in await items_of(feed, p1)] == []  # withdrawn: it names the hidden community
    assert [d["type"] for d in await items_of(feed, m1)] == ["reply_posted"]

    second = await send_sealed(
        feed,
        lambda s: rs.ReplyPosted(thread=thread, reply=sample_reply(u("r2"), thread, o1), sealed_recipients=s),
        c1,
        [m1, p1],
    )
    announced = await send(feed, rs.ThreadPosted(thread=sample_thread(u("t2"), c1, o1, kind="announcement")), c1)
    await feed.handled([second, announced])
    assert sorted(d["type"] for d in await items_of(feed, m1)) == [
        "announcement_posted",
        "reply_posted",
        "reply_posted",
    ]
    assert await items_of(feed, p1) == []
    assert await feed.dead_letters() == 0


async def test_a_reply_reaches_a_community_webhook_without_its_sealed_recipients(
    start_service: StartService, feed: Feed, receiver: WebhookReceiver
) -> None:
    service = start_notifications(start_service, feed)
    u = fresh("hook")
    c1 = u("c1")
    owner = Person(user_id=u("owner"), email=f"{u('owner')}@example.org", name="Owner")
    m1 = u("m1")
    await seed(
        feed,
        [
            (created(c1, "Falls North", owner.user_id), c1),
            (joined(c1, owner.user_id, "owner"), c1),
            (joined(c1, m1), c1),
        ],
    )
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as api:
        response = await api.post(
            f"/v1/communities/{c1}/webhooks",
            json={"url": receiver.url("/ok/replies"), "types": ["org.weft.discussion.*"], "description": "replies"},
            headers=owner.headers,
        )
    assert response.status_code == 201, response.text
    secret = response.json()["secret"]

    thread = sample_thread(u("t1"), c1, None, kind="question", title="Bed alarms at night?")
    reply = sample_reply(u("r1"), thread, None)  # an anonymous answer to an anonymous question
    message_id = await send_sealed(
        feed, lambda s: rs.ReplyPosted(thread=thread, reply=reply, sealed_recipients=s), c1, [m1]
    )
    await feed.handled([message_id])
    [got] = await eventually(lambda: receiver.arrived("replies"), what="the reply's webhook delivery")
    envelope: Doc = Webhook(secret).verify(got.body, got.headers)
    assert envelope["id"] == message_id and envelope["type"] == "org.weft.discussion.reply_posted.v1"
    assert "sealed_recipients" not in envelope["data"] and b"sealed_recipients" not in got.body
    assert m1.encode() not in got.body
    assert envelope["data"]["reply"]["author_id"] is None and envelope["data"]["thread"]["author_id"] is None
    # Delivered twice, recorded once; and m1 was told, once.
    assert await feed.db.webhook_deliveries.count_documents({"message_id": message_id}) == 1
    await assert_told(feed, {m1: ["reply_posted"]})
    assert (await one_item(feed, m1, "reply_posted"))["text"].startswith("An anonymous member replied")
