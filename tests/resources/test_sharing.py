"""Sharing a library item with a linked community, through the gateway: who may, with
whom (the same 422 for a hidden, unlinked or unknown target), the messages, and the
item leaving the partner's library at once when the link is removed (a real DELETE)."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_note, library, link, unlink
from tests.support.api import new_person, problem, problem_fields
from tests.support.bus import types_of, wait_for_messages

Doc = dict[str, Any]


async def test_share_with_a_linked_community_until_the_link_goes(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    a = await circle(web, resources_db, facilitators=1, label="a")
    b = await circle(web, resources_db, label="b")
    c = await circle(web, resources_db, label="c")  # not linked with a
    h = await circle(web, resources_db, visibility="hidden", label="h")
    link_id = await link(web, resources_db, a, b)
    await link(web, resources_db, a, c, share_resources=False)
    item = await create_note(web, a.member, a.id, title="shared note")
    url = f"/v1/resources/{item['id']}/shares"

    problem(await web.get(f"/v1/resources/{item['id']}", headers=b.member.headers), 404)
    problem(await web.put(f"{url}/{b.id}", headers=a.member.headers), 403)  # its creator, not staff
    problem(await web.put(f"{url}/{b.id}", headers=b.member.headers), 404)  # cannot see it
    refusals = [
        await web.put(f"{url}/{target}", headers=a.facilitator.headers) for target in (c.id, h.id, "nope", a.id)
    ]
    assert [problem_fields(r, 422) for r in refusals] == [{"community_id"}] * 4
    assert len({r.json()["detail"] for r in refusals}) == 1  # one answer: nothing learnt about the target

    shared = await web.put(f"{url}/{b.id}", headers=a.facilitator.headers)
    assert shared.status_code == 200, shared.text
    assert shared.json()["shared_with"] == [b.id]
    again = await web.put(f"{url}/{b.id}", headers=a.owner.headers)
    assert again.status_code == 200 and again.json()["shared_with"] == [b.id]
    assert "shared note" in [i["title"] for i in await library(web, b.member, b.id)]
    assert (await web.get(f"/v1/resources/{item['id']}", headers=b.member.headers)).status_code == 200
    assert await library(web, c.member, b.id) == []  # c is no partner of b

    await unlink(web, resources_db, a, link_id)
    assert "shared note" not in [i["title"] for i in await library(web, b.member, b.id)]
    problem(await web.get(f"/v1/resources/{item['id']}", headers=b.member.headers), 404)

    # Withdrawing works after the link is gone; twice changes nothing.
    assert (await web.delete(f"{url}/{b.id}", headers=a.facilitator.headers)).status_code == 204
    assert (await web.delete(f"{url}/{b.id}", headers=a.facilitator.headers)).status_code == 204
    assert (await resources_db.resources.find_one({"_id": item["id"]}) or {})["shared_with"] == []
    problem(await web.delete(f"{url}/{b.id}", headers=new_person("x").headers), 404)

    found = await wait_for_messages(nats_server.url, f"weft.resource.*.v1.{a.id}", at_least=4)
    assert types_of(found) == [
        "org.weft.resource.created.v1",
        "org.weft.resource.published.v1",
        "org.weft.resource.shared.v1",
        "org.weft.resource.unshared.v1",
    ]
    assert found[2].body["data"]["shared_with"] == b.id and found[2].body["data"]["shared_by"] == a.facilitator.user_id
    assert found[3].body["data"]["unshared_from"] == b.id and found[3].body["data"]["resource"]["shared_with"] == []
