"""A ban outlives the banned person's erasure: erasing the account and coming back with the
same sign-in does not open the community again (nothing else of them is kept)."""

from __future__ import annotations

import asyncio

import httpx
from pymongo import AsyncMongoClient

from tests.support.api import create_community, join, new_person, problem
from weft_membership.storage.erasure import ERASED_ACTOR
from weft_shared.storage.erasures import person_hash


async def test_a_banned_person_who_erases_themself_still_cannot_rejoin(
    client: httpx.AsyncClient, platform_env: dict[str, str]
) -> None:
    owner, troll, other = new_person("owner"), new_person("troll"), new_person("other")
    community_id = str((await create_community(client, owner, name="Kept bans"))["id"])
    for person in (troll, other):
        assert (await join(client, community_id, person)).status_code == 201
    banned = await client.delete(
        f"/v1/communities/{community_id}/members/{troll.user_id}?ban=true", headers=owner.headers
    )
    assert banned.status_code == 204, banned.text
    removed = await client.delete(f"/v1/communities/{community_id}/members/{other.user_id}", headers=owner.headers)
    assert removed.status_code == 204, removed.text

    for person in (troll, other):
        erased = await client.delete("/v1/me", headers=person.headers)
        assert erased.status_code == 202, erased.text

    # Signing in again: a token issued after the erasure (whole seconds, so a moment later).
    await asyncio.sleep(1.1)
    again = await join(client, community_id, troll)
    assert "cannot rejoin" in problem(again, 403)["detail"]
    # Someone removed without a ban, erased too, may join again like anyone.
    assert (await join(client, community_id, other)).status_code == 201

    database = AsyncMongoClient[dict[str, object]](platform_env["MONGODB_URL"])[
        platform_env["WEFT_MEMBERSHIP_DATABASE"]
    ]
    try:
        kept = await database.kept_bans.find({"community_id": community_id}).to_list()
    finally:
        await database.client.close()
    assert kept == [{"_id": f"{community_id}:{person_hash(troll.user_id)}", "community_id": community_id}]
    assert troll.user_id not in str(kept) and ERASED_ACTOR not in str(kept)
