"""Where addresses come from: membership announces how to reach a person (when it
first records them, and when their address changes), and the notifications service
keeps it in its read model, so mail can reach people who never called it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import nats
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, new_person
from tests.support.bus import BusMessage, stream_messages
from tests.support.waiting import eventually
from weft_cli.ladder import DatabaseHandle
from weft_cli.natsserver import NatsHandle
from weft_cli.testing import ServiceProcess
from weft_shared.contracts.membership import PersonContactChanged

SUBJECT = f"weft.{PersonContactChanged.subject_tokens()}.network"
Doc = dict[str, Any]


@pytest.fixture
async def mongo(database: DatabaseHandle) -> AsyncIterator[AsyncMongoClient[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def notifications_db(mongo: AsyncMongoClient[Doc], platform_env: dict[str, str]) -> AsyncDatabase[Doc]:
    return mongo[platform_env["WEFT_NOTIFICATIONS_DATABASE"]]


async def contact_messages(nats_url: str, person: Person) -> list[BusMessage]:
    return [m for m in await stream_messages(nats_url, SUBJECT) if m.body["data"]["user_id"] == person.user_id]


async def sign_in(client: httpx.AsyncClient, person: Person) -> None:
    """Any request records the caller; `/v1/me` is the one a client makes first."""
    response = await client.get("/v1/me", headers=person.headers)
    assert response.status_code == 200, response.text


async def recorded(db: AsyncDatabase[Doc], person: Person, email: str) -> Doc | None:
    doc = await db.view_people.find_one({"_id": person.user_id})
    return doc if doc is not None and doc.get("email") == email else None


async def test_a_person_who_signs_in_is_reachable_by_the_notifications_service(
    web: httpx.AsyncClient, nats_server: NatsHandle, notifications_db: AsyncDatabase[Doc]
) -> None:
    ana = new_person("ana")
    await sign_in(web, ana)

    [message] = await eventually(lambda: contact_messages(nats_server.url, ana), what="the announcement")
    assert message.subject == SUBJECT  # network-scoped: no community's subscription sees it
    assert message.body["type"] == "org.weft.person.contact_changed.v1"
    assert message.body["data"] == {"user_id": ana.user_id, "email": ana.email, "display_name": ana.name}

    doc = await eventually(lambda: recorded(notifications_db, ana, ana.email), what="the address in the read model")
    assert doc["display_name"] == ana.name and doc["seq"] > 0


async def test_an_address_change_is_announced_once_and_nothing_else_is(
    web: httpx.AsyncClient,
    nats_server: NatsHandle,
    notifications_db: AsyncDatabase[Doc],
    start_service: Callable[..., ServiceProcess],
) -> None:
    ben = new_person("ben")
    await sign_in(web, ben)
    await eventually(lambda: contact_messages(nats_server.url, ben), what="the first announcement")

    moved = replace(ben, email=f"{ben.user_id}@nhs.example.org")
    await sign_in(web, moved)
    await sign_in(web, moved)  # the same token again
    await sign_in(web, replace(moved, name="Dr Ben"))  # a new name in the token is not a new address
    await sign_in(web, replace(moved, email=""))  # a token without an email keeps the recorded one
    # A membership process that has never seen Ben (its cache of known claims is empty)
    # records him again: still nothing to announce.
    fresh = start_service("membership")
    moved_again = replace(moved, email=f"{ben.user_id}@gp.example.org")
    async with httpx.AsyncClient(base_url=fresh.url, timeout=15) as other:
        await sign_in(other, moved)
        # A last change marks the end: messages about one person go out in commit
        # order, so anything announced by the requests above would come before it.
        await sign_in(other, moved_again)

    await eventually(lambda: recorded(notifications_db, ben, moved_again.email), what="the last address")
    messages = await contact_messages(nats_server.url, ben)
    assert [m.body["data"]["email"] for m in messages] == [ben.email, moved.email, moved_again.email]
    assert messages[1].body["data"]["display_name"] == ben.name  # the recorded name, not the token's


async def test_an_old_address_delivered_again_changes_nothing(
    web: httpx.AsyncClient, nats_server: NatsHandle, notifications_db: AsyncDatabase[Doc]
) -> None:
    cai = new_person("cai")
    moved = replace(cai, email=f"{cai.user_id}@nhs.example.org")
    await sign_in(web, cai)
    await sign_in(web, moved)
    await eventually(lambda: recorded(notifications_db, cai, moved.email), what="the new address")
    first = (await contact_messages(nats_server.url, cai))[0]
    assert first.body["data"]["email"] == cai.email

    # JetStream redelivers; here the first message is in the stream twice, the copy last.
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        headers = {k: v for k, v in first.headers.items() if k != "Nats-Msg-Id"}
        copy = await js.publish(first.subject, first.raw, headers=headers, stream="WEFT")

        async def handled() -> bool:
            info = await js.consumer_info("WEFT", "notifications")
            return info.ack_floor is not None and (info.ack_floor.stream_seq or 0) >= copy.seq

        await eventually(handled, what="the notifications consumer to handle the copy")
    finally:
        await nc.close()
    assert await recorded(notifications_db, cai, moved.email) is not None


async def test_a_person_recorded_before_addresses_were_announced_is_announced_once(
    web: httpx.AsyncClient,
    nats_server: NatsHandle,
    mongo: AsyncMongoClient[Doc],
    platform_env: dict[str, str],
    notifications_db: AsyncDatabase[Doc],
) -> None:
    """Records written before this message existed (kept dev data, a deployment's
    people) have no announcement behind them: the next time membership records
    the person, it announces their contact, once."""
    dee = new_person("dee")
    # A record as the previous version of membership wrote it on first sight.
    users = mongo[platform_env["WEFT_MEMBERSHIP_DATABASE"]].users
    await users.insert_one({"_id": dee.user_id, "email": dee.email, "display_name": "Dee From Before"})

    await sign_in(web, dee)
    await sign_in(web, replace(dee, name="Dee Again"))  # recorded again: announced already
    await eventually(lambda: recorded(notifications_db, dee, dee.email), what="the address in the read model")
    messages = await contact_messages(nats_server.url, dee)
    assert [m.body["data"] for m in messages] == [
        {"user_id": dee.user_id, "email": dee.email, "display_name": "Dee From Before"}
    ]


async def test_a_new_person_s_first_requests_at_once_announce_them_once(
    web: httpx.AsyncClient, nats_server: NatsHandle
) -> None:
    """A client's first requests often go in parallel: the records they write
    conflict, one commits, the others retry and find the person recorded."""
    eve = new_person("eve")
    await asyncio.gather(*(sign_in(web, eve) for _ in range(6)))
    moved = replace(eve, email=f"{eve.user_id}@nhs.example.org")
    await sign_in(web, moved)  # the last message about Eve: whatever came before is in the stream

    async def emails() -> list[str]:
        return [m.body["data"]["email"] for m in await contact_messages(nats_server.url, eve)]

    await eventually(lambda: _contains(emails(), moved.email), what="the change")
    assert await emails() == [eve.email, moved.email]


async def _contains(found: Awaitable[list[str]], value: str) -> bool:
    return value in await found
