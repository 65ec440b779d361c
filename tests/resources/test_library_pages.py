"""The library of a community, through the gateway: its own items, partners' items through
links that share resources, items shared with it; each only for those who may see it
(domain/standing.py); drafts; hidden communities; keyset pages and filters."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_link, create_note, library, link
from tests.support.api import new_person, problem, problem_fields

Doc = dict[str, Any]


def titles(items: list[Doc]) -> list[str]:
    return [i["title"] for i in items]


async def test_own_partners_and_network_items_each_for_whom_may_see_them(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    a = await circle(web, resources_db, members=2, facilitators=1, label="a")
    b = await circle(web, resources_db, label="b")
    c = await circle(web, resources_db, label="c")  # not linked
    await link(web, resources_db, a, b)
    own = await create_note(web, a.member, a.id, title="own", visibility="community")
    partners = await create_note(web, a.member, a.id, title="partners", visibility="partners")
    network = await create_link(web, a.member, a.id, title="network", visibility="network")
    draft = await create_note(web, a.member, a.id, title="draft", status="draft")
    b_partners = await create_note(web, b.member, b.id, title="b-partners", visibility="partners")
    await create_note(web, b.member, b.id, title="b-own")
    await create_note(web, c.member, c.id, title="c-partners", visibility="partners")

    assert titles(await library(web, a.members[1], a.id)) == ["b-partners", "network", "partners", "own"]
    assert titles(await library(web, b.member, a.id)) == ["b-partners", "network", "partners"]
    assert titles(await library(web, c.member, a.id)) == ["network"]
    assert titles(await library(web, new_person("stranger"), a.id)) == ["network"]
    # B's library, to A's member: B's partners items (not its own ones) and A's partners items.
    assert titles(await library(web, a.member, b.id)) == ["b-partners", "partners"]

    # Drafts: their creator and the community's staff.
    assert titles(await library(web, a.member, a.id, status="draft")) == ["draft"]
    assert titles(await library(web, a.facilitator, a.id, status="draft")) == ["draft"]
    assert await library(web, a.members[1], a.id, status="draft") == []
    assert await library(web, b.member, a.id, status="draft") == []
    problem(await web.get(f"/v1/resources/{draft['id']}", headers=a.members[1].headers), 404)
    assert (await web.get(f"/v1/resources/{draft['id']}", headers=a.owner.headers)).status_code == 200

    # One item, as each person may see it (someone else's id is the same 404 as an unknown one).
    for item, allowed, refused in (
        (own, [a.members[1], a.owner], [b.member, c.member]),
        (partners, [b.member], [c.member]),
        (network, [c.member, new_person("stranger")], []),
        (b_partners, [a.member], [c.member]),
    ):
        for person in allowed:
            seen = await web.get(f"/v1/resources/{item['id']}", headers=person.headers)
            assert seen.status_code == 200, (item["title"], person, seen.text)
        for person in refused:
            problem(await web.get(f"/v1/resources/{item['id']}", headers=person.headers), 404)
    problem(await web.get("/v1/resources/no-such-item", headers=a.member.headers), 404)
    # `shared_with` is for the item's own community.
    assert (await web.get(f"/v1/resources/{partners['id']}", headers=b.member.headers)).json()["shared_with"] is None


async def test_a_hidden_community_s_library_does_not_exist_outside_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    h = await circle(web, resources_db, visibility="hidden", label="h")
    network = await create_link(web, h.member, h.id, title="hidden network item", visibility="network")
    stranger = new_person("stranger")
    problem(await web.get(f"/v1/communities/{h.id}/resources", headers=stranger.headers), 404)
    problem(await web.get(f"/v1/resources/{network['id']}", headers=stranger.headers), 404)
    assert titles(await library(web, h.owner, h.id)) == ["hidden network item"]
    problem(await web.get("/v1/communities/no-such/resources", headers=stranger.headers), 404)


async def test_pages_filters_and_cursors(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db)
    made = []
    for n in range(7):
        if n % 2:
            made.append(await create_link(web, c.member, c.id, title=f"item {n}", tags=["odd", f"n{n}"]))
        else:
            made.append(await create_note(web, c.member, c.id, title=f"item {n}", tags=["even", f"n{n}"]))
    newest_first = [f"item {n}" for n in reversed(range(7))]

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await web.get(f"/v1/communities/{c.id}/resources", params=params, headers=c.owner.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 3 and all(i["text"] is None and i["note_html"] is None for i in page["items"])
        seen += titles(page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first and pages == 3

    assert titles(await library(web, c.owner, c.id, kind="note")) == ["item 6", "item 4", "item 2", "item 0"]
    assert titles(await library(web, c.owner, c.id, tag="odd", limit=1)) == ["item 5", "item 3", "item 1"]
    assert titles(await library(web, c.owner, c.id, tag="ODD", kind="note")) == []
    assert titles(await library(web, c.owner, c.id, tag="n4", kind="note")) == ["item 4"]
    assert await library(web, c.owner, c.id, status="archived") == []

    url = f"/v1/communities/{c.id}/resources"
    assert problem_fields(await web.get(url, params={"cursor": "garbage"}, headers=c.owner.headers), 400) == {"cursor"}
    assert problem_fields(await web.get(url, params={"kind": "video"}, headers=c.owner.headers), 422) == {"kind"}
    assert problem_fields(await web.get(url, params={"status": "gone"}, headers=c.owner.headers), 422) == {"status"}
    assert problem_fields(await web.get(url, params={"limit": 0}, headers=c.owner.headers), 422) == {"limit"}
