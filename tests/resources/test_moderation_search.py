"""What a moderator hides or removes leaves search results at once (moderation's writes
touch the search feed in their transaction), and unhidden content comes back."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.moderation import create_note, make_cast, moderate
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def found(web: httpx.AsyncClient, headers: dict[str, str], word: str) -> set[str]:
    response = await web.get("/v1/search", params={"q": word}, headers=headers)
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["items"]}


async def test_hidden_and_removed_items_leave_search_and_unhidden_ones_return(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    cast = await make_cast(web, resources_db)
    word = f"quorv{secrets.token_hex(3)}"
    hidden = await create_note(web, cast.community_id, cast.member, text=f"The {word} protocol, step one.")
    removed = await create_note(web, cast.community_id, cast.member, text=f"The {word} protocol, step two.")
    both = {hidden["id"], removed["id"]}

    async def searchable(expected: set[str]) -> bool:
        return await found(web, cast.other_member.headers, word) == expected

    await eventually(lambda: searchable(both), what="both notes in search")
    assert (await moderate(web, cast.owner, "resource", hidden["id"], "hide")).status_code == 200
    assert (await moderate(web, cast.owner, "resource", removed["id"], "remove", "Unsafe advice")).status_code == 200
    await eventually(lambda: searchable(set()), what="the moderated notes out of search")
    assert await found(web, cast.owner.headers, word) == set()  # moderators use the queue and the log

    assert (await moderate(web, cast.facilitator, "resource", hidden["id"], "unhide")).status_code == 200
    await eventually(lambda: searchable({hidden["id"]}), what="the unhidden note back in search")
