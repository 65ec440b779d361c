"""Idempotency keys in the shared plumbing, on a real database: the key's states, its
expiry, takeover of a crashed attempt, and that its state commits with the change
(the unit of work writes it in the change's transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import new_person
from tests.support.isolated import isolated
from weft_shared.http import create_service_app
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.service.idempotency import add_idempotency_key, fingerprint, install, valid_key
from weft_shared.settings import PlatformSettings
from weft_shared.storage.idempotency import (
    KEEP,
    AppliedUnanswered,
    Claim,
    ClaimLost,
    IdempotencyKeys,
    InProgress,
    KeyRef,
    Mismatch,
    Replay,
    StoredResponse,
    pending_claim,
)
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

Doc = dict[str, Any]
FP = fingerprint("POST", "/v1/things", b"", b'{"n": 1}')
OTHER_FP = fingerprint("POST", "/v1/things", b"", b'{"n": 2}')
CREATED = StoredResponse(201, [("content-type", "application/json")], b'{"id": "t1"}')


@dataclass
class Rig:
    platform: PlatformSettings
    db: AsyncDatabase[Doc]
    keys: IdempotencyKeys
    uow: UnitOfWork


@pytest.fixture
async def rig(nats_server, database) -> AsyncIterator[Rig]:  # type: ignore[no-untyped-def]
    async with isolated(nats_server.url, database.url, "idempotency") as env:
        keys = IdempotencyKeys(env.db)
        await keys.create_indexes()
        outbox = Outbox(env.db)
        await outbox.create_indexes()
        await env.db.create_collection("things")
        uow = UnitOfWork(env.client, outbox, MessageFactory(env.platform, "/test"))
        yield Rig(env.platform, env.db, keys, uow)


async def claimed(keys: IdempotencyKeys, key: str = "k1", fp: str = FP, principal: str = "ana") -> Claim:
    outcome = await keys.begin(principal, key, fp)
    assert isinstance(outcome, Claim), outcome
    return outcome


async def key_doc(rig: Rig, key: str = "k1", principal: str = "ana") -> Doc | None:
    return await rig.db.idempotency_keys.find_one({"principal": principal, "key": KeyRef.of(principal, key).lookup})


async def expire_lease(rig: Rig, claim: Claim) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    await rig.db.idempotency_keys.update_one({"_id": claim.id}, {"$set": {"lease_until": past}})


async def insert_thing(rig: Rig, thing_id: str) -> None:
    async def work(tx: Transaction) -> None:
        await rig.db.things.insert_one({"_id": thing_id}, session=tx.session)

    await rig.uow.run(work)


def test_a_key_is_1_to_255_visible_ascii_characters() -> None:
    assert valid_key(b"a") and valid_key(b"x" * 255) and valid_key(b"8e03978e-40d5-43e8-bc93-6894a57f9324")
    assert valid_key(b'"quoted:~!"')
    assert not valid_key(b"")
    assert not valid_key(b"x" * 256)
    assert not valid_key(b"two words")
    assert not valid_key(b"tab\there")
    assert not valid_key("café".encode())


def test_the_fingerprint_covers_method_path_query_and_body() -> None:
    base = fingerprint("POST", "/v1/a", b"x=1", b"{}")
    assert base == fingerprint("POST", "/v1/a", b"x=1", b"{}")
    others = {
        fingerprint("PUT", "/v1/a", b"x=1", b"{}"),
        fingerprint("POST", "/v1/b", b"x=1", b"{}"),
        fingerprint("POST", "/v1/a", b"x=2", b"{}"),
        fingerprint("POST", "/v1/a", b"x=1", b"{ }"),
        fingerprint("POST", "/v1/a", b"", b"x=1{}"),  # no part can slide into its neighbour
    }
    assert base not in others and len(others) == 5


async def test_keys_are_unique_per_principal_and_kept_for_a_day_by_a_ttl_index(rig: Rig) -> None:
    indexes = {i["name"]: i for i in await (await rig.db.idempotency_keys.list_indexes()).to_list()}
    assert indexes["principal_key"]["key"] == {"principal": 1, "key": 1}
    assert indexes["principal_key"]["unique"] is True
    assert indexes["created_at_ttl"]["key"] == {"created_at": 1}
    assert indexes["created_at_ttl"]["expireAfterSeconds"] >= 24 * 3600


async def test_a_key_moves_from_running_to_kept_and_is_replayed(rig: Rig) -> None:
    claim = await claimed(rig.keys)
    assert isinstance(await rig.keys.begin("ana", "k1", FP), InProgress)
    assert isinstance(await rig.keys.begin("ana", "k1", OTHER_FP), Mismatch)
    await rig.keys.finish(claim, CREATED)
    replay = await rig.keys.begin("ana", "k1", FP)
    assert replay == Replay(CREATED)
    assert isinstance(await rig.keys.begin("ana", "k1", OTHER_FP), Mismatch)
    # Keys are per principal: another caller's same key is a key of its own.
    await claimed(rig.keys, principal="ben")


async def test_neither_the_key_nor_the_answer_is_stored_in_clear(rig: Rig) -> None:
    secret_answer = StoredResponse(201, [("location", "/v1/invitations/tok-s3cr3t")], b'{"token": "tok-s3cr3t"}')
    claim = await claimed(rig.keys, key="client-key-0001")
    await rig.keys.finish(claim, secret_answer)
    raw = await rig.db.idempotency_keys.find_one({"_id": claim.id})
    assert raw is not None
    stored = repr(raw).encode()
    assert b"s3cr3t" not in stored and b"client-key-0001" not in stored and FP.encode() not in stored
    assert await rig.keys.begin("ana", "client-key-0001", FP) == Replay(secret_answer)
    # Anyone else's key (or principal) opens nothing.
    assert KeyRef.of("ana", "client-key-0002").open(raw["response"]) is None
    assert KeyRef.of("ben", "client-key-0001").open(raw["response"]) is None


async def test_a_released_key_can_be_claimed_again_at_once(rig: Rig) -> None:
    claim = await claimed(rig.keys)
    await rig.keys.release(claim)
    assert await key_doc(rig) is None
    await claimed(rig.keys)


async def test_a_key_older_than_a_day_is_treated_as_absent(rig: Rig) -> None:
    claim = await claimed(rig.keys)
    await rig.keys.finish(claim, CREATED)
    # The TTL monitor removes it some time after the day (and may stall): don't wait for it.
    await rig.db.idempotency_keys.update_one(
        {"_id": claim.id}, {"$set": {"created_at": datetime.now(UTC) - KEEP - timedelta(minutes=1)}}
    )
    again = await claimed(rig.keys, fp=OTHER_FP)  # not a replay, not a mismatch: a new key
    assert again.id != claim.id
    doc = await key_doc(rig)
    assert doc is not None and doc["state"] == "running" and doc["fingerprint"] == KeyRef.of("ana", "k1").mark(OTHER_FP)


async def test_racing_first_attempts_get_one_claim(rig: Rig) -> None:
    outcomes = await asyncio.gather(*(rig.keys.begin("ana", "race", FP) for _ in range(12)))
    assert sum(isinstance(o, Claim) for o in outcomes) == 1
    assert sum(isinstance(o, InProgress) for o in outcomes) == 11
    assert await rig.db.idempotency_keys.count_documents({"key": KeyRef.of("ana", "race").lookup}) == 1


async def test_the_key_commits_with_the_change_and_not_without_it(rig: Rig) -> None:
    claim = await claimed(rig.keys)
    token = pending_claim.set(claim)
    try:

        async def failing(tx: Transaction) -> None:
            await rig.db.things.insert_one({"_id": "half"}, session=tx.session)
            raise RuntimeError("the use case fails after a write")

        with pytest.raises(RuntimeError):
            await rig.uow.run(failing)
        doc = await key_doc(rig)
        assert doc is not None and doc["state"] == "running"  # rolled back with the write
        assert await rig.db.things.find_one({"_id": "half"}) is None

        await insert_thing(rig, "t1")
        doc = await key_doc(rig)
        assert doc is not None and doc["state"] == "applied"
        assert claim.recorded
    finally:
        pending_claim.reset(token)

    # Committed, the answer not kept yet: a retry is told to wait, as its attempt may still answer.
    assert isinstance(await rig.keys.begin("ana", "k1", FP), InProgress)
    # A crash now (its lease runs out): the retry is told the change was applied, not applied again.
    await expire_lease(rig, claim)
    assert isinstance(await rig.keys.begin("ana", "k1", FP), AppliedUnanswered)
    # A 5xx after the commit must not release it either.
    await rig.keys.release(claim)
    assert isinstance(await rig.keys.begin("ana", "k1", FP), AppliedUnanswered)
    await rig.keys.finish(claim, CREATED)
    assert await rig.keys.begin("ana", "k1", FP) == Replay(CREATED)


async def test_a_crashed_first_attempt_is_taken_over_after_its_lease(rig: Rig) -> None:
    crashed = await claimed(rig.keys)  # its process died before its change committed
    assert isinstance(await rig.keys.begin("ana", "k1", FP), InProgress)
    await expire_lease(rig, crashed)
    retry = await claimed(rig.keys)
    assert retry.id == crashed.id and retry.owner != crashed.owner

    # Were the first attempt alive after all, its change cannot commit now.
    token = pending_claim.set(crashed)
    try:
        with pytest.raises(ClaimLost):
            await insert_thing(rig, "from-the-first")
    finally:
        pending_claim.reset(token)
    assert await rig.db.things.find_one({"_id": "from-the-first"}) is None
    await rig.keys.finish(crashed, CREATED)  # nothing: the key is the retry's now
    doc = await key_doc(rig)
    assert doc is not None and doc["state"] == "running" and doc["owner"] == retry.owner

    token = pending_claim.set(retry)
    try:
        await insert_thing(rig, "from-the-retry")
    finally:
        pending_claim.reset(token)
    await rig.keys.finish(retry, CREATED)
    assert await rig.keys.begin("ana", "k1", FP) == Replay(CREATED)
    assert await rig.db.things.count_documents({}) == 1


def test_the_openapi_document_declares_the_header_on_every_write() -> None:
    router = APIRouter()

    @router.get("/v1/things")
    async def list_things() -> list[str]:
        return []

    @router.post("/v1/things", status_code=201)
    async def create_thing() -> dict[str, str]:
        return {}

    @router.delete("/v1/things/{thing_id}", status_code=204, responses={409: {"description": "in use"}})
    async def delete_thing(thing_id: str) -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    schema = add_idempotency_key(app.openapi())
    assert add_idempotency_key(schema) == schema  # applying it twice changes nothing
    parameter = schema["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    assert parameter["schema"]["maxLength"] == 255
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    things = schema["paths"]["/v1/things"]
    assert ref in things["post"]["parameters"] and {"409", "422"} <= set(things["post"]["responses"])
    assert ref not in things["get"].get("parameters", [])
    delete = schema["paths"]["/v1/things/{thing_id}"]["delete"]
    assert ref in delete["parameters"]
    assert delete["responses"]["409"]["description"] == "in use"  # what the route declares is kept


def app_that_fails_once(rig: Rig) -> FastAPI:
    """A service skeleton with two writes that fail the way a bug or an outage would."""
    app = create_service_app(title="failing", platform=rig.platform, lifespan=None)
    attempts: list[str] = []

    @app.post("/v1/flaky", status_code=201)
    async def flaky() -> dict[str, int]:
        attempts.append("flaky")
        if len(attempts) == 1:
            raise RuntimeError("the first attempt fails before changing anything")
        await insert_thing(rig, f"flaky-{len(attempts)}")
        return {"attempt": len(attempts)}

    @app.post("/v1/commit-then-fail", status_code=201)
    async def commit_then_fail() -> None:
        await insert_thing(rig, "committed")
        raise RuntimeError("fails after its change committed")

    install(app, rig.keys, app.state.token_verifier)
    return app


async def test_a_5xx_is_not_kept_unless_its_change_committed(rig: Rig) -> None:
    transport = httpx.ASGITransport(app=app_that_fails_once(rig), raise_app_exceptions=False)
    ana = new_person("ana")
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        headers = {**ana.headers, "Idempotency-Key": "k-flaky"}
        assert (await http.post("/v1/flaky", headers=headers)).status_code == 500
        retried = await http.post("/v1/flaky", headers=headers)  # runs again: nothing was applied
        assert retried.status_code == 201 and retried.json() == {"attempt": 2}
        replayed = await http.post("/v1/flaky", headers=headers)
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == {"attempt": 2}

        headers = {**ana.headers, "Idempotency-Key": "k-committed"}
        assert (await http.post("/v1/commit-then-fail", headers=headers)).status_code == 500
        retried = await http.post("/v1/commit-then-fail", headers=headers)  # applied: not run again
        assert retried.status_code == 409 and retried.json()["applied"] is True
    assert await rig.db.things.count_documents({}) == 2
