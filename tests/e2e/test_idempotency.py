"""Safe retries with `Idempotency-Key`, on real services: a retried write is answered
with the first answer and applied once — through the gateway, across a restart, a
crash between the commit and the answer, and two replicas on one database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, create_community, join, new_person, problem
from tests.support.bus import community_messages, stream_messages, types_of, wait_for_messages
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_shared.contracts.subjects import community_wildcard
from weft_shared.storage.idempotency import KeyRef

pytestmark = pytest.mark.timeout(180)

CREATED = ["org.weft.community.created.v1", "org.weft.member.joined.v1"]
REPLAYED = "idempotent-replayed"
Doc = dict[str, Any]


def new_key() -> str:
    return f"retry-{secrets.token_hex(8)}"


def keyed(person: Person, key: str) -> dict[str, str]:
    return {**person.headers, "Idempotency-Key": key, "content-type": "application/json"}


def community_body(**fields: Any) -> bytes:
    """Exact bytes, so a retry sends the very same request."""
    return orjson.dumps({"name": f"Retry test {secrets.token_hex(4)}", "purpose": "Safe retries", **fields})


async def create(http: httpx.AsyncClient, person: Person, key: str, body: bytes) -> httpx.Response:
    return await http.post("/v1/communities", content=body, headers=keyed(person, key))


def assert_replay_of(first: httpx.Response, again: httpx.Response) -> None:
    assert REPLAYED not in first.headers
    assert again.headers.get(REPLAYED) == "true", again.headers
    assert again.status_code == first.status_code
    assert again.content == first.content  # byte for byte
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # a new request, an old answer


@pytest.fixture
async def members(membership_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=membership_service.url, timeout=15) as http:
        yield http


@pytest.fixture
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=15) as http:
        yield http


@pytest.fixture
async def mongo(database) -> AsyncIterator[AsyncMongoClient[Doc]]:  # type: ignore[no-untyped-def]
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


def membership_db(mongo: AsyncMongoClient[Doc], env: dict[str, str]) -> AsyncDatabase[Doc]:
    return mongo[env["WEFT_MEMBERSHIP_DATABASE"]]


async def communities_named(db: AsyncDatabase[Doc], body: bytes) -> int:
    return await db.communities.count_documents({"name": orjson.loads(body)["name"]})


async def exactly_announced(nats_url: str, community_id: str, expected: list[str]) -> None:
    await wait_for_messages(nats_url, community_wildcard("weft", community_id), at_least=len(expected))
    await asyncio.sleep(1.5)  # a sweep or so: a doubled message would land now
    assert types_of(await community_messages(nats_url, community_id)) == expected


async def test_a_retried_create_gets_the_first_answer_and_creates_nothing_new(
    members: httpx.AsyncClient,
    mongo: AsyncMongoClient[Doc],
    platform_env: dict[str, str],
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    ana, key, body = new_person("ana"), new_key(), community_body()
    first = await create(members, ana, key, body)
    assert first.status_code == 201, first.text
    again = await create(members, ana, key, body)
    assert_replay_of(first, again)

    db = membership_db(mongo, platform_env)
    community_id = first.json()["id"]
    assert await communities_named(db, body) == 1
    assert await db.memberships.count_documents({"community_id": community_id}) == 1
    await exactly_announced(nats_server.url, community_id, CREATED)
    key_doc = await db.idempotency_keys.find_one({"principal": ana.user_id, "key": KeyRef.of(ana.user_id, key).lookup})
    assert key_doc is not None and key_doc["state"] == "done"
    assert community_id.encode() not in key_doc["response"]  # sealed: only the key's holder can read it


async def test_a_replay_is_the_first_answer_not_what_a_fresh_request_would_get(
    members: httpx.AsyncClient,
) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community_id = (await create_community(members, ana))["id"]
    path = f"/v1/communities/{community_id}/members"
    key = new_key()
    joined = await members.post(path, headers=keyed(ben, key))
    assert joined.status_code == 201, joined.text
    assert (await join(members, community_id, ben)).status_code == 200  # without the key: "already a member"
    assert_replay_of(joined, await members.post(path, headers=keyed(ben, key)))


async def test_a_key_reused_for_another_request_is_refused(members: httpx.AsyncClient) -> None:
    ana, key, body = new_person("ana"), new_key(), community_body()
    first = await create(members, ana, key, body)
    assert first.status_code == 201, first.text
    other_body = await create(members, ana, key, community_body())
    assert problem(other_body, 422)["errors"][0]["field"] == "Idempotency-Key"
    other_path = await members.post(
        f"/v1/communities/{first.json()['id']}/members", content=body, headers=keyed(ana, key)
    )
    problem(other_path, 422)
    other_query = await members.post("/v1/communities?x=1", content=body, headers=keyed(ana, key))
    problem(other_query, 422)
    # Keys belong to their caller: Ben's same key is a key of his own.
    ben = new_person("ben")
    assert (await create(members, ben, key, body)).status_code in (201, 409)  # 409: the name is Ana's now


async def test_a_malformed_or_repeated_key_is_a_400_problem(members: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    for bad in ("", "x" * 256, "two words"):
        response = await members.post("/v1/communities", content=community_body(), headers=keyed(ana, bad))
        assert problem(response, 400)["errors"][0]["field"] == "Idempotency-Key", bad
    two = httpx.Headers([*ana.headers.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")])
    response = await members.post("/v1/communities", content=community_body(), headers=two)
    assert "not 2" in problem(response, 400)["detail"]


async def test_an_unauthenticated_request_is_not_keyed(members: httpx.AsyncClient) -> None:
    key, body = new_key(), community_body()
    refused = await members.post("/v1/communities", content=body, headers={"Idempotency-Key": key})
    problem(refused, 401)
    assert REPLAYED not in refused.headers
    ana = new_person("ana")  # the same key, now with a token: a first attempt
    assert (await create(members, ana, key, body)).status_code == 201


async def test_a_refusal_is_kept_and_replayed(members: httpx.AsyncClient) -> None:
    ana, key = new_person("ana"), new_key()
    body = orjson.dumps({"name": "", "purpose": "x"})
    first = await create(members, ana, key, body)
    problem(first, 422)
    assert_replay_of(first, await create(members, ana, key, body))


async def test_concurrent_identical_requests_apply_once(
    members: httpx.AsyncClient, mongo: AsyncMongoClient[Doc], platform_env: dict[str, str]
) -> None:
    ana, key, body = new_person("ana"), new_key(), community_body()
    answers = await asyncio.gather(*(create(members, ana, key, body) for _ in range(8)))
    fresh = [a for a in answers if REPLAYED not in a.headers and a.status_code == 201]
    assert len(fresh) == 1, [(a.status_code, a.text) for a in answers]
    for other in answers:
        if other is fresh[0]:
            continue
        if other.status_code == 409:
            assert "still being processed" in problem(other, 409)["detail"]
            assert other.headers["retry-after"] == "1"
        else:
            assert_replay_of(fresh[0], other)
    assert await communities_named(membership_db(mongo, platform_env), body) == 1


def own_membership_database() -> dict[str, str]:
    return {"WEFT_MEMBERSHIP_DATABASE": f"weft_membership_idem_{secrets.token_hex(4)}"}


async def test_a_retry_after_a_restart_is_replayed(
    start_service,  # type: ignore[no-untyped-def]
    mongo: AsyncMongoClient[Doc],
) -> None:
    env = own_membership_database()
    service: ServiceProcess = start_service("membership", env=env)
    ana, key, body = new_person("ana"), new_key(), community_body()
    async with httpx.AsyncClient(base_url=service.url, timeout=15) as http:
        first = await create(http, ana, key, body)
        assert first.status_code == 201, first.text
        service.restart()
        assert_replay_of(first, await create(http, ana, key, body))
    assert await communities_named(mongo[env["WEFT_MEMBERSHIP_DATABASE"]], body) == 1


async def test_a_crash_between_commit_and_answer_is_never_applied_twice(
    start_service,  # type: ignore[no-untyped-def]
    mongo: AsyncMongoClient[Doc],
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    # A short lease: the retry is told "applied" once the dead attempt's lease is over.
    env = {**own_membership_database(), "WEFT_MEMBERSHIP_IDEMPOTENCY_LEASE_SECONDS": "2"}
    ana, key, body = new_person("ana"), new_key(), community_body()
    # Recorded before (their first request announces their contact), so the one
    # write the crashing process commits is the community's.
    introducing: ServiceProcess = start_service("membership", env=env)
    async with httpx.AsyncClient(base_url=introducing.url, timeout=15) as http:
        assert (await http.get("/v1/me", headers=ana.headers)).status_code == 200
    introducing.stop()
    crashing: ServiceProcess = start_service("membership", env={**env, "WEFT_MEMBERSHIP_CRASH_BEFORE_PUBLISH": "true"})
    async with httpx.AsyncClient(base_url=crashing.url, timeout=15) as http:
        with pytest.raises(httpx.TransportError):
            await create(http, ana, key, body)  # committed, then the process died: no answer
    await eventually(lambda: asyncio.sleep(0, result=not crashing.alive), what="the crash hook to end the process")
    assert crashing.returncode == 70

    restarted: ServiceProcess = start_service("membership", env=env, port=crashing.port)
    async with httpx.AsyncClient(base_url=restarted.url, timeout=15) as http:

        async def told_applied() -> httpx.Response | None:
            retry = await create(http, ana, key, body)
            if "applied" not in problem(retry, 409):  # within the lease: the first attempt might still answer
                assert "still being processed" in retry.json()["detail"]
                return None
            return retry

        retry = await eventually(told_applied, what="the lease of the crashed attempt to end")
        answer = retry.json()
        assert answer["applied"] is True and "was applied" in answer["detail"], answer
        assert retry.headers.get(REPLAYED) == "true"
        again = await create(http, ana, key, body)
        assert again.status_code == 409 and again.json()["applied"] is True

    db = mongo[env["WEFT_MEMBERSHIP_DATABASE"]]
    assert await communities_named(db, body) == 1
    community = await db.communities.find_one({"name": orjson.loads(body)["name"]})
    assert community is not None
    await exactly_announced(nats_server.url, str(community["_id"]), CREATED)  # the sweeper's, once


async def test_two_replicas_agree_on_a_key(
    start_service,  # type: ignore[no-untyped-def]
    mongo: AsyncMongoClient[Doc],
) -> None:
    env = own_membership_database()
    one: ServiceProcess = start_service("membership", env=env)
    two: ServiceProcess = start_service("membership", env=env)
    db = mongo[env["WEFT_MEMBERSHIP_DATABASE"]]
    ana = new_person("ana")
    async with (
        httpx.AsyncClient(base_url=one.url, timeout=15) as a,
        httpx.AsyncClient(base_url=two.url, timeout=15) as b,
    ):
        key, body = new_key(), community_body()
        first = await create(a, ana, key, body)
        assert first.status_code == 201, first.text
        assert_replay_of(first, await create(b, ana, key, body))

        for _ in range(5):  # the same retry reaching both replicas at once
            key, body = new_key(), community_body()
            answers = await asyncio.gather(create(a, ana, key, body), create(b, ana, key, body))
            fresh = [r for r in answers if REPLAYED not in r.headers and r.status_code == 201]
            assert len(fresh) == 1, [(r.status_code, r.text) for r in answers]
            assert all(r.status_code in (201, 409) for r in answers)
            assert await communities_named(db, body) == 1


async def test_retries_through_the_gateway_reach_both_services_keyed(
    web: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    from tests.events.conftest import event_body

    owner, member = new_person("owner"), new_person("member")
    key, body = new_key(), community_body()
    first = await create(web, owner, key, body)
    assert first.status_code == 201, first.text
    assert_replay_of(first, await create(web, owner, key, body))
    community_id = first.json()["id"]
    await join(web, community_id, member)

    async def events_know_the_member() -> bool:
        listed = await web.get(f"/v1/communities/{community_id}/events", headers=member.headers)
        return listed.status_code == 200

    await eventually(events_know_the_member, what="the events service to learn the community")
    await eventually(lambda: _probe_scheduled(web, community_id, owner), what="the owner's role to reach events")

    schedule_key, event = new_key(), orjson.dumps(event_body(title="Keyed huddle"))
    path = f"/v1/communities/{community_id}/events"
    scheduled = await web.post(path, content=event, headers=keyed(owner, schedule_key))
    assert scheduled.status_code == 201, scheduled.text
    assert_replay_of(scheduled, await web.post(path, content=event, headers=keyed(owner, schedule_key)))
    listed = (await web.get(path, headers=member.headers)).json()["items"]
    keyed_huddles = [e for e in listed if e["title"] == "Keyed huddle"]
    assert len(keyed_huddles) == 1
    event_id = keyed_huddles[0]["id"]

    rsvp_key, rsvp = new_key(), orjson.dumps({"attendance": "in_person"})
    answered = await web.put(f"/v1/events/{event_id}/rsvp", content=rsvp, headers=keyed(member, rsvp_key))
    assert answered.status_code == 201, answered.text
    assert_replay_of(
        answered, await web.put(f"/v1/events/{event_id}/rsvp", content=rsvp, headers=keyed(member, rsvp_key))
    )
    withdraw_key = new_key()
    withdrawn = await web.delete(f"/v1/events/{event_id}/rsvp", headers=keyed(member, withdraw_key))
    assert withdrawn.status_code == 204, withdrawn.text
    assert_replay_of(withdrawn, await web.delete(f"/v1/events/{event_id}/rsvp", headers=keyed(member, withdraw_key)))

    subject = f"weft.rsvp.*.v1.{community_id}"
    await wait_for_messages(nats_server.url, subject, at_least=2)
    await asyncio.sleep(1.5)
    assert types_of(await stream_messages(nats_server.url, subject)) == [
        "org.weft.rsvp.confirmed.v1",
        "org.weft.rsvp.cancelled.v1",
    ]


async def _probe_scheduled(web: httpx.AsyncClient, community_id: str, owner: Person) -> bool:
    """Unkeyed (a kept 403 would be replayed): 201 once events knows the owner's role."""
    from tests.events.conftest import event_body

    probe = event_body(title="Probe")
    response = await web.post(f"/v1/communities/{community_id}/events", json=probe, headers=owner.headers)
    return response.status_code == 201


async def test_every_write_operation_documents_the_header(
    membership_service: ServiceProcess, events_service: ServiceProcess
) -> None:
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    async with httpx.AsyncClient(timeout=15) as http:
        for service in (membership_service, events_service):
            schema = (await http.get(f"{service.url}/openapi.json")).json()
            assert schema["components"]["parameters"]["IdempotencyKey"]["in"] == "header"
            writes = [
                (path, method, operation)
                for path, item in schema["paths"].items()
                for method, operation in item.items()
                if method in {"post", "put", "patch", "delete"}
            ]
            assert writes
            for path, method, operation in writes:
                assert ref in operation.get("parameters", []), (service.name, method, path)
                assert {"409", "422"} <= set(operation["responses"]), (service.name, method, path)
