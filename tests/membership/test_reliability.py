"""Nothing lost, nothing doubled: crashes between write and publish, NATS restarts."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.support.api import create_community, new_person
from tests.support.bus import community_messages, types_of, wait_for_messages
from weft_cli.natsserver import start_nats
from weft_shared.contracts.subjects import community_wildcard

CREATED = ["org.weft.community.created.v1", "org.weft.member.joined.v1"]


async def find_community_id(database_url: str, db_name: str, name: str) -> tuple[str, int]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(database_url)
    try:
        db = client[db_name]
        doc = await db.communities.find_one({"name": name})
        assert doc is not None, "the write should have happened before the crash"
        return str(doc["_id"]), await db.outbox.count_documents({})
    finally:
        await client.close()


def own_database() -> dict[str, str]:
    """A database of its own, so the session's membership process (whose sweeper
    would publish our leftovers too) never sees this test's outbox."""
    return {"WEFT_MEMBERSHIP_DATABASE": f"weft_membership_reliability_{secrets.token_hex(4)}"}


async def test_crash_between_write_and_publish_publishes_once_after_restart(
    start_service,  # type: ignore[no-untyped-def]
    database,
    nats_url: str,
) -> None:
    env = own_database()
    owner = new_person("owner")
    # Recorded before (their first request announces their contact), so the one
    # write the crashing process commits is the community's.
    introducing = start_service("membership", env=env)
    async with httpx.AsyncClient(base_url=introducing.url, timeout=10) as http:
        assert (await http.get("/v1/me", headers=owner.headers)).status_code == 200
    introducing.stop()
    crashing = start_service("membership", env={**env, "WEFT_MEMBERSHIP_CRASH_BEFORE_PUBLISH": "true"})
    name = f"Crash test {secrets.token_hex(3)}"
    async with httpx.AsyncClient(base_url=crashing.url, timeout=10) as http:
        with pytest.raises(httpx.TransportError):
            await http.post("/v1/communities", json={"name": name, "purpose": "x"}, headers=owner.headers)
    for _ in range(50):
        if not crashing.alive:
            break
        await asyncio.sleep(0.1)
    assert crashing.returncode == 70, "the crash hook should have ended the process"

    community_id, pending = await find_community_id(database.url, env["WEFT_MEMBERSHIP_DATABASE"], name)
    assert pending == 2
    assert await community_messages(nats_url, community_id) == []

    # Same port and database, without the hook: its sweeper finds the leftovers.
    start_service("membership", env=env, port=crashing.port)
    messages = await wait_for_messages(nats_url, community_wildcard("weft", community_id), at_least=2)
    await asyncio.sleep(2.5)  # another sweep or two: nothing more may appear
    messages = await community_messages(nats_url, community_id)
    assert types_of(messages) == CREATED
    _, pending = await find_community_id(database.url, env["WEFT_MEMBERSHIP_DATABASE"], name)
    assert pending == 0


async def test_nats_restart_under_the_service_reconnects_and_drains(
    start_service,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    own_nats = start_nats(tmp_path / "nats")
    try:
        service = start_service("membership", env={**own_database(), "WEFT_NATS_URL": own_nats.url})
        owner = new_person("owner")
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            before = await create_community(http, owner)
            assert types_of(await community_messages(own_nats.url, before["id"])) == CREATED

            own_nats.stop()
            during = await create_community(http, owner)  # the write succeeds; publishing waits
            ready = await http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["checks"]["nats"].startswith("failing")

            own_nats = start_nats(tmp_path / "nats", port=own_nats.port)
            messages = await wait_for_messages(
                own_nats.url, community_wildcard("weft", during["id"]), at_least=2, timeout=30
            )
            assert types_of(messages) == CREATED
            assert types_of(await community_messages(own_nats.url, before["id"])) == CREATED  # kept, not doubled
            after = await create_community(http, owner)
            assert types_of(await community_messages(own_nats.url, after["id"])) == CREATED
            assert (await http.get("/readyz")).status_code == 200
    finally:
        own_nats.stop()
