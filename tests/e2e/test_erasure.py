"""`DELETE /v1/me` across the suite: a person with data in every service is erased,
then every collection of every service's database is dumped to text and searched
for their id, email and name, and nothing is found; what must stay (a post's text,
an attendance count) stays, anonymised; the person waitlisted behind them moves up;
someone else's data is untouched. Then a re-sent erasure and a late message about
them (sent before the erasure) change nothing.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import nats
import pytest
from bson import json_util
from pymongo import AsyncMongoClient

from tests.events.conftest import schedule
from tests.resources.discussions import reply, start_thread
from tests.resources.library import create_note
from tests.resources.moderation import report
from tests.support.api import Person, create_community, join, new_person, problem
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.testing import ServiceProcess
from weft_shared.contracts.envelope import wrap
from weft_shared.contracts.membership import MemberJoined
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.contracts.subjects import subject_for

Doc = dict[str, Any]
SERVICES = ("membership", "events", "notifications", "resources", "web")


def soon(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0).isoformat()


async def traces(mongo: AsyncMongoClient[Doc], databases: list[str], needles: list[str]) -> list[str]:
    """`db.collection: needle` for every document of these databases whose text holds a needle."""
    found = []
    existing = set(await mongo.list_database_names())
    for name in databases:
        if name not in existing:
            continue
        db = mongo[name]
        for collection in await db.list_collection_names():
            async for doc in db[collection].find({}):
                text = json_util.dumps(doc)
                found += [f"{name}.{collection}: {n} in {text[:300]}" for n in needles if n in text]
    return found


async def rsvp(web: httpx.AsyncClient, event_id: str, person: Person) -> str:
    response = await web.put(f"/v1/events/{event_id}/rsvp", json={"attendance": "in_person"}, headers=person.headers)
    assert response.status_code in (200, 201), response.text
    status: str = response.json()["status"]
    return status


async def my_status(web: httpx.AsyncClient, event_id: str, person: Person) -> str | None:
    shown = await web.get(f"/v1/events/{event_id}", headers=person.headers)
    assert shown.status_code == 200, shown.text
    mine = shown.json().get("my_rsvp")
    return mine["status"] if mine else None


async def publish(nats_url: str, payload: Any, *, time: datetime | None = None, community_id: str | None = None) -> str:
    """Put a message on the stream as a service's relay would; returns its id."""
    envelope = wrap(payload, source="/weft/membership", subject=None, community_id=community_id)
    if time is not None:
        envelope = envelope.model_copy(update={"time": time})
    nc = await nats.connect(nats_url)
    try:
        subject = subject_for("weft", type(payload), community_id)
        await nc.jetstream().publish(subject, envelope.model_dump_json().encode(), headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()
    return envelope.id


async def handled_everywhere(mongo: AsyncMongoClient[Doc], databases: list[str], message_id: str) -> bool:
    for name in databases:
        if await mongo[name].processed_messages.find_one({"_id": message_id}) is None:
            return False
    return True


@pytest.mark.asyncio
async def test_erasure_leaves_no_trace_and_keeps_what_must_stay(
    gateway_service: ServiceProcess,
    platform_env: dict[str, str],
    session_smtp: SmtpServer,
) -> None:
    tag = secrets.token_hex(4)
    ana = Person(f"erasee-{tag}", f"erasee-{tag}@example.org", f"Zelda Quintrell {tag}")
    ben, carol = new_person("ben"), new_person("carol")
    databases = [
        platform_env[f"WEFT_{s.upper()}_DATABASE"] for s in SERVICES if f"WEFT_{s.upper()}_DATABASE" in platform_env
    ]
    consumers = [platform_env[f"WEFT_{s.upper()}_DATABASE"] for s in ("events", "notifications", "resources")]
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(platform_env["MONGODB_URL"], tz_aware=True)
    receiver = WebhookReceiver()
    await receiver.start()
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=20) as web:
        try:
            # Two communities: Ana's own (Ben co-owns it, so she may leave it) and Ben's.
            mine = await create_community(web, ana)
            bens = await create_community(web, ben)
            for community, person in ((mine, ben), (bens, ana), (bens, carol)):
                assert (await join(web, community["id"], person)).status_code == 201
            promoted = await web.patch(
                f"/v1/communities/{mine['id']}/members/{ben.user_id}", json={"role": "owner"}, headers=ana.headers
            )
            assert promoted.status_code == 200, promoted.text
            # A role change is mailed: Ana gets an inbox item and an email.
            made_facilitator = await web.patch(
                f"/v1/communities/{bens['id']}/members/{ana.user_id}", json={"role": "facilitator"}, headers=ben.headers
            )
            assert made_facilitator.status_code == 200, made_facilitator.text
            profile = {"display_name": ana.name, "bio": "Falls lead", "expertise": ["falls prevention"]}
            assert (await web.put("/v1/me/profile", json=profile, headers=ana.headers)).status_code == 200

            async def subscribed() -> bool:
                response = await web.post(
                    f"/v1/communities/{mine['id']}/webhooks",
                    json={"url": receiver.url(f"/ok/{tag}"), "types": ["org.weft.member.*"]},
                    headers=ana.headers,
                )
                return response.status_code == 201

            await eventually(subscribed, what="Ana's webhook subscription")
            assert (await join(web, mine["id"], carol)).status_code == 201
            await eventually(lambda: receiver.arrived(tag), what="a webhook delivery")

            # Events in Ben's community: a confirmed place with Carol waiting behind it,
            # a waitlisted place behind Carol's, and an attendance (a walk-in check-in).
            full = await schedule(web, bens["id"], ben, capacity={"in_person": 1})
            assert await rsvp(web, full["id"], ana) == "confirmed"
            assert await rsvp(web, full["id"], carol) == "waitlisted"
            other = await schedule(web, bens["id"], ben, capacity={"in_person": 1})
            assert await rsvp(web, other["id"], carol) == "confirmed"
            assert await rsvp(web, other["id"], ana) == "waitlisted"
            now_on = await schedule(web, bens["id"], ben, starts_at=soon(10), ends_at=soon(70))
            checked = await web.post(
                f"/v1/events/{now_on['id']}/check-ins", json={"user_id": ana.user_id}, headers=ben.headers
            )
            assert checked.status_code in (200, 201), checked.text

            # Resources: a note, a thread, replies, a reaction, a report.
            note = await create_note(web, ana, bens["id"])
            thread = await start_thread(web, bens["id"], ana, body=f"Handover tips from {tag}")
            bens_reply = await reply(web, thread["id"], ben, "We use SBAR too.")
            anas_reply = await reply(web, thread["id"], ana, f"Thanks, noted {tag}.")
            reacted = await web.put(f"/v1/replies/{bens_reply['id']}/reactions/thanks", headers=ana.headers)
            assert reacted.status_code in (200, 201, 204), reacted.text
            assert (await report(web, ana, "reply", bens_reply["id"])).status_code == 201

            async def notified() -> bool:
                inbox = await web.get("/v1/me/notifications", headers=ana.headers)
                return bool(inbox.json()["items"]) and bool(session_smtp.catcher.to(ana.email))

            await eventually(notified, what="Ana's inbox item and email")
            needles = [ana.user_id, ana.email, ana.name]
            assert {t.split(":")[0].split(".")[0] for t in await traces(mongo, databases, needles)} >= set(
                databases[:4]
            ), "the person has data in every service's database before the erasure"

            # Carol is the only owner of her community: refused, naming it.
            hers = await create_community(web, carol, name=f"Carol's own {tag}")
            refused = problem(await web.delete("/v1/me", headers=carol.headers), 409)
            assert hers["name"] in refused["detail"] and refused["errors"][0]["field"] == "communities"
            assert (await web.delete("/v1/me")).status_code == 401

            old_headers = ana.headers  # a token issued before the erasure
            erased = await web.delete("/v1/me", headers=old_headers)
            assert erased.status_code == 202, erased.text
            assert erased.json()["status"] == "erasing"

            async def nothing_left() -> bool:
                return not await traces(mongo, databases, needles)

            try:
                await eventually(nothing_left, timeout=20, what="no trace of the person in any database")
            except AssertionError:
                raise AssertionError("\n".join(await traces(mongo, databases, needles))) from None

            # The next in line moved up; the attendance count and the posts' text stayed.
            async def carol_promoted() -> bool:
                return await my_status(web, full["id"], carol) == "confirmed"

            await eventually(carol_promoted, what="Carol promoted from the waitlist")
            attended = await mongo[consumers[0]].events.find_one({"_id": now_on["id"]})
            assert attended is not None and attended["checked_in"] == 1
            shown = await web.get(f"/v1/threads/{thread['id']}", headers=ben.headers)
            assert shown.status_code == 200 and f"Handover tips from {tag}" in shown.text
            replies = await web.get(f"/v1/threads/{thread['id']}/replies", headers=ben.headers)
            assert f"Thanks, noted {tag}." in replies.text and "We use SBAR too." in replies.text
            assert (await web.get(f"/v1/resources/{note['id']}", headers=ben.headers)).status_code == 200
            assert anas_reply["id"] in replies.text

            # Ben is untouched: his communities, his profile, his email.
            bens_me = (await web.get("/v1/me", headers=ben.headers)).json()
            assert {c["id"] for c in bens_me["communities"]} == {mine["id"], bens["id"]}
            assert bens_me["email"] == ben.email

            # A re-sent erasure and a late message from before it (a redelivery) change nothing.
            again = await publish(
                platform_env["WEFT_NATS_URL"], PersonErased(user_id=ana.user_id, erased_at=datetime.now(UTC))
            )
            late = MemberJoined(
                community_id=bens["id"],
                user_id=ana.user_id,
                role="member",
                via="open",
                display_name=ana.name,
                community_visibility="public",
            )
            stale = await publish(
                platform_env["WEFT_NATS_URL"],
                late,
                time=datetime.now(UTC) - timedelta(minutes=5),
                community_id=bens["id"],
            )
            for message_id in (again, stale):
                await eventually(lambda m=message_id: handled_everywhere(mongo, consumers, m), what="redelivery")
            assert not await traces(mongo, databases, needles)
            assert await my_status(web, full["id"], carol) == "confirmed"

            # Her old token is refused everywhere (it must not bring her back); nothing came back.
            for path in ("/v1/me", "/v1/me/notifications", "/v1/me/attendance", "/v1/webhooks"):
                old = await web.get(path, headers=old_headers)
                assert old.status_code == 401 and "erased" in old.json()["detail"], (path, old.text)
            assert not await traces(mongo, databases, needles)
            # Signing in again (a new token) makes a new, empty person.
            fresh = (await web.get("/v1/me", headers=ana.headers)).json()
            assert fresh["communities"] == [] and fresh["expertise"] == []
        finally:
            await receiver.stop()
            await mongo.close()
