"""Every library item has a comment thread, made on its first read or comment: seen by
whoever may see the item, written in by members of the item's community."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import circle, link_sharing_resources, reply
from tests.resources.library import create_note
from tests.support.api import new_person, problem

Doc = dict[str, Any]


async def test_an_items_comment_thread_follows_the_item(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home, partner = await circle(web, resources_db), await circle(web, resources_db, members=1)
    await link_sharing_resources(web, resources_db, home, partner)
    shared = await create_note(web, home.member, home.id, visibility="partners", status="published")
    private = await create_note(web, home.member, home.id, visibility="community", status="published")

    # Two first reads at once make one thread (its id is the item's natural key).
    first, second = await asyncio.gather(
        web.get(f"/v1/resources/{shared['id']}/comments", headers=home.member.headers),
        web.get(f"/v1/resources/{shared['id']}/comments", headers=home.members[1].headers),
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    thread = first.json()
    assert second.json()["id"] == thread["id"] and thread["kind"] == "comments"
    assert thread["resource_id"] == shared["id"] and thread["reply_count"] == 0
    assert await resources_db.threads.count_documents({"resource_id": shared["id"]}) == 1
    item = await resources_db.resources.find_one({"_id": shared["id"]})
    assert item is not None and item["comment_thread_id"] == thread["id"]

    commented = await web.post(
        f"/v1/resources/{shared['id']}/comments", json={"body": "Used it on ward 3."}, headers=home.members[1].headers
    )
    assert commented.status_code == 201, commented.text
    await reply(web, thread["id"], home.member, "Thanks!", quotes_reply_id=commented.json()["id"])
    guest = partner.member
    page = await web.get(f"/v1/threads/{thread['id']}/replies", headers=guest.headers)
    assert [r["body_markdown"] for r in page.json()["items"]] == ["Used it on ward 3.", "Thanks!"]
    problem(await web.post(f"/v1/resources/{shared['id']}/comments", json={"body": "x"}, headers=guest.headers), 403)
    problem(await web.post(f"/v1/threads/{thread['id']}/replies", json={"body": "x"}, headers=guest.headers), 403)

    # Comment threads are not in the community's list of threads.
    listed = await web.get(f"/v1/communities/{home.id}/threads", headers=home.member.headers)
    assert thread["id"] not in [t["id"] for t in listed.json()["items"]]

    # Whoever may not see the item may not see its comments: the same 404 as an unknown item.
    stranger = new_person("stranger")
    for person, resource_id in [
        (guest, private["id"]),
        (stranger, shared["id"]),
        (stranger, "000000000000000000000000"),
    ]:
        problem(await web.get(f"/v1/resources/{resource_id}/comments", headers=person.headers), 404)
        problem(
            await web.post(f"/v1/resources/{resource_id}/comments", json={"body": "x"}, headers=person.headers), 404
        )
    private_thread = await web.get(f"/v1/resources/{private['id']}/comments", headers=home.member.headers)
    problem(await web.get(f"/v1/threads/{private_thread.json()['id']}", headers=guest.headers), 404)
    problem(await web.get(f"/v1/threads/{thread['id']}", headers=stranger.headers), 404)
