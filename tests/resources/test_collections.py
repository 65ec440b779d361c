"""Collections through the gateway: facilitators make and order them, members read them,
each reader sees only the items they may see (in order), bad input is a 422 naming the
field (or the index in the list), and outsiders of a hidden community find nothing."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_link, create_note, link, unlink
from tests.support.api import new_person, problem, problem_fields
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def make_collection(web: httpx.AsyncClient, person: Any, community_id: str, **body: Any) -> Doc:
    response = await web.post(
        f"/v1/communities/{community_id}/collections",
        json={"title": "Reading list for new members", **body},
        headers=person.headers,
    )
    assert response.status_code == 201, response.text
    made: Doc = response.json()
    return made


async def items_seen(web: httpx.AsyncClient, person: Any, collection_id: str) -> list[str]:
    response = await web.get(f"/v1/collections/{collection_id}", headers=person.headers)
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["items"]]


async def test_facilitators_curate_and_members_read(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    made = await make_collection(web, c.facilitator, c.id, description="Start here")
    assert made["title"] == "Reading list for new members" and made["items"] == []
    assert made["created_by"] == c.facilitator.user_id

    problem(
        await web.post(f"/v1/communities/{c.id}/collections", json={"title": "Mine"}, headers=c.member.headers), 403
    )
    outsider = new_person("outsider")
    problem(
        await web.post(f"/v1/communities/{c.id}/collections", json={"title": "Theirs"}, headers=outsider.headers), 403
    )

    renamed = await web.patch(
        f"/v1/collections/{made['id']}", json={"title": "Toolkit", "description": ""}, headers=c.owner.headers
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Toolkit" and renamed.json()["description"] == ""
    problem(await web.patch(f"/v1/collections/{made['id']}", json={"title": "X"}, headers=c.member.headers), 403)
    seen = await web.get(f"/v1/collections/{made['id']}", headers=c.member.headers)
    assert seen.status_code == 200 and seen.json()["title"] == "Toolkit"

    problem(await web.delete(f"/v1/collections/{made['id']}", headers=c.member.headers), 403)
    assert (await web.delete(f"/v1/collections/{made['id']}", headers=c.facilitator.headers)).status_code == 204
    problem(await web.get(f"/v1/collections/{made['id']}", headers=c.member.headers), 404)
    problem(await web.delete(f"/v1/collections/{made['id']}", headers=c.facilitator.headers), 404)


async def test_bad_input_names_the_field(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=1)
    url = f"/v1/communities/{c.id}/collections"
    for body, field in [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "two\nlines"}, "title"),
        ({"title": {"$ne": None}}, "title"),
        ({"title": "Fine", "description": "x" * 2001}, "description"),
        ({"title": "Fine", "colour": "red"}, "colour"),
    ]:
        assert field in problem_fields(await web.post(url, json=body, headers=c.owner.headers), 422), body
    made = await make_collection(web, c.owner, c.id)
    patch = f"/v1/collections/{made['id']}"
    assert "body" in problem_fields(await web.patch(patch, json={}, headers=c.owner.headers), 422)
    assert problem_fields(await web.patch(patch, json={"title": None}, headers=c.owner.headers), 422) == {"title"}
    items = f"/v1/collections/{made['id']}/items"
    assert problem_fields(await web.put(items, json={"resource_ids": "r1"}, headers=c.owner.headers), 422) == {
        "resource_ids"
    }
    too_many = {"resource_ids": [f"r{n}" for n in range(501)]}
    assert problem_fields(await web.put(items, json=too_many, headers=c.owner.headers), 422) == {"resource_ids"}
    assert (await web.get(url, headers=c.owner.headers)).json()["items"][0]["title"] == made["title"]  # unchanged
    problem(await web.get(url, params={"cursor": "not-a-cursor"}, headers=c.owner.headers), 400)


async def test_the_item_list_is_checked_index_by_index(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    partner = await circle(web, resources_db, members=1, label="p")
    stranger = await circle(web, resources_db, members=1, label="s")
    await link(web, resources_db, c, partner)
    own = await create_note(web, c.member, c.id)
    own_link = await create_link(web, c.member, c.id)
    partners_item = await create_note(web, partner.owner, partner.id, visibility="partners")
    partner_private = await create_note(web, partner.owner, partner.id)  # community-only: not in c's library
    strangers_network = await create_note(web, stranger.owner, stranger.id, visibility="network")
    made = await make_collection(web, c.facilitator, c.id)
    url = f"/v1/collections/{made['id']}/items"

    async def refused(ids: list[str]) -> dict[str, str]:
        body = problem(await web.put(url, json={"resource_ids": ids}, headers=c.facilitator.headers), 422)
        return {e["field"]: e["message"] for e in body["errors"]}

    assert set(await refused([own["id"], own_link["id"], own["id"]])) == {"resource_ids.2"}  # a repeat
    unknown = await refused([own["id"], "no-such-item"])
    assert set(unknown) == {"resource_ids.1"}
    unseen = await refused([partner_private["id"]])  # exists, but the caller may not see it: the same answer
    assert set(unseen) == {"resource_ids.0"} and unseen["resource_ids.0"].startswith("no such resource")
    assert unknown["resource_ids.1"].startswith("no such resource")
    outside = await refused([own["id"], strangers_network["id"]])  # seen, but not in this library
    assert set(outside) == {"resource_ids.1"} and "library" in outside["resource_ids.1"]
    assert await items_seen(web, c.member, made["id"]) == []  # nothing written by the refusals

    order = [partners_item["id"], own_link["id"], own["id"]]
    put = await web.put(url, json={"resource_ids": order}, headers=c.facilitator.headers)
    assert put.status_code == 200, put.text
    assert [i["id"] for i in put.json()["items"]] == order
    assert await items_seen(web, c.member, made["id"]) == order
    problem(await web.put(url, json={"resource_ids": []}, headers=c.member.headers), 403)

    # One item in several collections.
    second = await make_collection(web, c.owner, c.id, title="Toolkit")
    again = await web.put(
        f"/v1/collections/{second['id']}/items", json={"resource_ids": [own["id"]]}, headers=c.owner.headers
    )
    assert again.status_code == 200 and await items_seen(web, c.member, second["id"]) == [own["id"]]

    # The link goes: the partner's item drops out of the list for c's members.
    link_id = (await resources_db.membership_links.find_one({"communities": sorted([c.id, partner.id])}) or {})["_id"]
    await unlink(web, resources_db, c, link_id)
    assert await items_seen(web, c.member, made["id"]) == [own_link["id"], own["id"]]


async def test_each_reader_sees_what_they_may(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=2, facilitators=1)
    reader = c.members[1]
    network = await create_note(web, c.member, c.id, visibility="network")
    community_only = await create_note(web, c.member, c.id)
    draft = await create_note(web, c.facilitator, c.id, status="draft")
    to_archive = await create_note(web, c.member, c.id)
    made = await make_collection(web, c.facilitator, c.id)
    order = [draft["id"], network["id"], community_only["id"], to_archive["id"]]
    put = await web.put(
        f"/v1/collections/{made['id']}/items", json={"resource_ids": order}, headers=c.facilitator.headers
    )
    assert put.status_code == 200, put.text

    assert await items_seen(web, c.facilitator, made["id"]) == order
    assert await items_seen(web, reader, made["id"]) == order[1:]  # not someone else's draft
    outsider = new_person("outsider")
    assert await items_seen(web, outsider, made["id"]) == [network["id"]]  # a public community: network items

    archived = await web.post(f"/v1/resources/{to_archive['id']}/archive", headers=c.member.headers)
    assert archived.status_code == 200, archived.text
    assert await items_seen(web, reader, made["id"]) == [network["id"], community_only["id"]]
    assert await items_seen(web, c.facilitator, made["id"]) == order  # its keepers still see it

    listed = await web.get(f"/v1/communities/{c.id}/collections", headers=outsider.headers)
    assert listed.status_code == 200 and [k["id"] for k in listed.json()["items"]] == [made["id"]]


async def test_a_hidden_communitys_collections_are_unknown_outside_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1, visibility="hidden")
    made = await make_collection(web, c.facilitator, c.id)
    outsider = new_person("outsider")
    for method, path, body in [
        ("POST", f"/v1/communities/{c.id}/collections", {"title": "x"}),
        ("GET", f"/v1/communities/{c.id}/collections", None),
        ("GET", f"/v1/collections/{made['id']}", None),
        ("PATCH", f"/v1/collections/{made['id']}", {"title": "x"}),
        ("PUT", f"/v1/collections/{made['id']}/items", {"resource_ids": []}),
        ("DELETE", f"/v1/collections/{made['id']}", None),
    ]:
        unknown = await web.request(method, path, json=body, headers=outsider.headers)
        assert problem(unknown, 404)["detail"].startswith("no such"), (method, path)
    assert await items_seen(web, c.member, made["id"]) == []


async def test_collections_are_listed_newest_first_in_pages(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1)
    made = [await make_collection(web, c.owner, c.id, title=f"List {n}") for n in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await web.get(f"/v1/communities/{c.id}/collections", params=params, headers=c.member.headers)
        assert page.status_code == 200, page.text
        seen += [k["id"] for k in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [k["id"] for k in reversed(made)]


async def test_an_item_shared_with_the_community_may_be_collected_while_shared(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    partner = await circle(web, resources_db, members=1, label="p")
    await link(web, resources_db, c, partner)
    theirs = await create_note(web, partner.owner, partner.id)  # community-only over there
    made = await make_collection(web, c.facilitator, c.id)
    url = f"/v1/collections/{made['id']}/items"
    refused = await web.put(url, json={"resource_ids": [theirs["id"]]}, headers=c.facilitator.headers)
    assert problem_fields(refused, 422) == {"resource_ids.0"}  # not shared yet: c's people may not see it

    share = f"/v1/resources/{theirs['id']}/shares/{c.id}"
    assert (await web.put(share, headers=partner.owner.headers)).status_code in (200, 201)
    accepted = await web.put(url, json={"resource_ids": [theirs["id"]]}, headers=c.facilitator.headers)
    assert accepted.status_code == 200, accepted.text
    assert await items_seen(web, c.member, made["id"]) == [theirs["id"]]

    assert (await web.delete(share, headers=partner.owner.headers)).status_code == 204
    assert await items_seen(web, c.member, made["id"]) == []  # unshared: out of the list at once


async def test_a_banned_member_reads_as_an_outsider_and_cannot_curate(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1, visibility="private")
    banned = c.facilitators[0]  # even a facilitator, once banned
    network = await create_note(web, c.owner, c.id, visibility="network")
    community_only = await create_note(web, c.owner, c.id)
    made = await make_collection(web, c.owner, c.id)
    order = [network["id"], community_only["id"]]
    assert (
        await web.put(f"/v1/collections/{made['id']}/items", json={"resource_ids": order}, headers=c.owner.headers)
    ).status_code == 200
    removed = await web.delete(
        f"/v1/communities/{c.id}/members/{banned.user_id}", params={"ban": "true"}, headers=c.owner.headers
    )
    assert removed.status_code in (200, 204), removed.text

    async def ban_known() -> bool:
        held = await resources_db.membership_members.find_one({"_id": f"{c.id}:{banned.user_id}"})
        return held is not None and bool(held.get("banned"))

    await eventually(ban_known, what="the ban in the resources view")
    assert await items_seen(web, banned, made["id"]) == [network["id"]]
    assert await items_seen(web, c.member, made["id"]) == order
    problem(await web.patch(f"/v1/collections/{made['id']}", json={"title": "x"}, headers=banned.headers), 403)
    problem(await web.post(f"/v1/communities/{c.id}/collections", json={"title": "x"}, headers=banned.headers), 403)
    problem(await web.delete(f"/v1/collections/{made['id']}", headers=banned.headers), 403)
