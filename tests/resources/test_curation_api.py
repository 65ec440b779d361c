"""Curation through the gateway: review status, endorsement and the recommended list,
useful marks; who may do each (member, facilitator, outsider, partner, banned, a
hidden community's outsider), repeats that change nothing, and the messages."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_note, link
from tests.support.api import new_person, problem
from tests.support.bus import community_messages, types_of
from tests.support.waiting import eventually

Doc = dict[str, Any]

PUBLISHED = "org.weft.resource.published.v1"
ARCHIVED = "org.weft.resource.archived.v1"
ENDORSED = "org.weft.resource.endorsed.v1"
WITHDRAWN = "org.weft.resource.endorsement_withdrawn.v1"


async def curation(web: httpx.AsyncClient, person: Any, resource_id: str) -> Doc:
    response = await web.get(f"/v1/resources/{resource_id}/curation", headers=person.headers)
    assert response.status_code == 200, response.text
    body: Doc = response.json()
    return body


async def test_publish_and_archive_are_guarded_moves(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    c = await circle(web, resources_db, members=2, facilitators=1)
    author, other = c.members
    draft = await create_note(web, author, c.id, status="draft")
    rid = draft["id"]

    # A draft: seen by its creator and the staff only; others may not know it exists.
    problem(await web.post(f"/v1/resources/{rid}/publish", headers=other.headers), 404)
    problem(await web.post(f"/v1/resources/{rid}/archive", headers=author.headers), 409)  # nothing archives a draft

    published = await web.post(f"/v1/resources/{rid}/publish", headers=author.headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    again = await web.post(f"/v1/resources/{rid}/publish", headers=author.headers)
    assert again.status_code == 200 and again.json()["status"] == "published"  # a no-op

    problem(await web.post(f"/v1/resources/{rid}/archive", headers=other.headers), 403)  # a member, not its creator
    archived = await web.post(f"/v1/resources/{rid}/archive", headers=c.facilitator.headers)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    assert (await web.post(f"/v1/resources/{rid}/archive", headers=c.facilitator.headers)).status_code == 200
    back = await web.post(f"/v1/resources/{rid}/publish", headers=c.owner.headers)
    assert back.status_code == 200 and back.json()["status"] == "published"  # brought back

    outsider = new_person("outsider")
    problem(await web.post(f"/v1/resources/{rid}/publish", headers=outsider.headers), 404)  # may not see it
    problem(await web.post("/v1/resources/no-such-item/publish", headers=author.headers), 404)

    stored = await resources_db.resources.find_one({"_id": rid})
    assert stored is not None and stored["status"] == "published" and stored["updated_by"] == c.owner.user_id
    messages = [m for m in await community_messages(nats_server.url, c.id) if m.body["data"].get("resource")]
    moves = [m for m in messages if m.type in (PUBLISHED, ARCHIVED) and m.body["data"]["resource"]["id"] == rid]
    assert types_of(moves) == [PUBLISHED, ARCHIVED, PUBLISHED]  # one per real move, none for the repeats
    assert moves[0].body["data"]["published_by"] == author.user_id
    assert moves[1].body["data"]["archived_by"] == c.facilitator.user_id
    assert "note_markdown" not in str(moves[0].body)


async def test_facilitators_endorse_published_items_and_members_see_them_recommended(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    first = await create_note(web, c.member, c.id)
    second = await create_note(web, c.member, c.id, visibility="network")
    draft = await create_note(web, c.member, c.id, status="draft")

    problem(await web.put(f"/v1/resources/{first['id']}/endorsement", headers=c.member.headers), 403)
    problem(await web.put(f"/v1/resources/{draft['id']}/endorsement", headers=c.facilitator.headers), 409)
    for item in (first, second):
        endorsed = await web.put(f"/v1/resources/{item['id']}/endorsement", headers=c.facilitator.headers)
        assert endorsed.status_code == 200, endorsed.text
        assert endorsed.json()["endorsed"]["by"] == c.facilitator.user_id
    repeat = await web.put(f"/v1/resources/{first['id']}/endorsement", headers=c.owner.headers)
    assert repeat.status_code == 200 and repeat.json()["endorsed"]["by"] == c.facilitator.user_id  # unchanged

    async def recommended(person: Any, **params: Any) -> Doc:
        response = await web.get(f"/v1/communities/{c.id}/resources/recommended", params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        body: Doc = response.json()
        return body

    listed = await recommended(c.member)
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]  # newest endorsement first
    assert all(i["endorsed"] for i in listed["items"])
    one = await recommended(c.member, limit=1)
    assert [i["id"] for i in one["items"]] == [second["id"]] and one["next_cursor"]
    rest = await recommended(c.member, limit=1, cursor=one["next_cursor"])
    assert [i["id"] for i in rest["items"]] == [first["id"]] and rest["next_cursor"] is None
    outsider = new_person("outsider")
    assert [i["id"] for i in (await recommended(outsider))["items"]] == [second["id"]]  # the network item only
    problem(
        await web.get(
            f"/v1/communities/{c.id}/resources/recommended", params={"cursor": "x!"}, headers=c.member.headers
        ),
        400,
    )

    withdrawn = await web.delete(f"/v1/resources/{first['id']}/endorsement", headers=c.owner.headers)
    assert withdrawn.status_code == 204
    assert (await web.delete(f"/v1/resources/{first['id']}/endorsement", headers=c.owner.headers)).status_code == 204
    assert (await curation(web, c.member, first["id"]))["endorsed"] is None
    assert [i["id"] for i in (await recommended(c.member))["items"]] == [second["id"]]

    messages = await community_messages(nats_server.url, c.id)
    endorsements = [m for m in messages if m.type in (ENDORSED, WITHDRAWN)]
    assert types_of(endorsements) == [ENDORSED, ENDORSED, WITHDRAWN]
    assert endorsements[0].body["data"]["resource"]["endorsed"] is True
    assert endorsements[2].body["data"]["withdrawn_by"] == c.owner.user_id


async def test_useful_marks_count_one_per_person(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=3)
    partner = await circle(web, resources_db, members=1, label="p")
    await link(web, resources_db, c, partner)
    item = await create_note(web, c.owner, c.id, visibility="partners")
    rid = item["id"]
    url = f"/v1/resources/{rid}/useful"
    ana, ben, banned = c.members

    first = await web.put(url, headers=ana.headers)
    assert first.status_code == 201, first.text
    assert first.json()["useful_count"] == 1 and first.json()["marked_useful_by_me"] is True
    again = await web.put(url, headers=ana.headers)
    assert again.status_code == 200 and again.json()["useful_count"] == 1  # one mark per person
    assert (await web.put(url, headers=ben.headers)).json()["useful_count"] == 2
    by_partner = await web.put(url, headers=partner.member.headers)  # a partner who may see it
    assert by_partner.status_code == 201 and by_partner.json()["useful_count"] == 3
    seen_by_owner = await curation(web, c.owner, rid)
    assert seen_by_owner["useful_count"] == 3 and seen_by_owner["marked_useful_by_me"] is False

    assert (await web.delete(url, headers=ana.headers)).status_code == 204
    assert (await web.delete(url, headers=ana.headers)).status_code == 204  # nothing to remove: no change
    after = await curation(web, ana, rid)
    assert after["useful_count"] == 2 and after["marked_useful_by_me"] is False
    assert (await curation(web, ben, rid))["marked_useful_by_me"] is True
    assert (await web.get(f"/v1/resources/{rid}", headers=ben.headers)).json()["useful_count"] == 2

    problem(await web.put(url, headers=new_person("outsider").headers), 404)  # may not see a partners item
    removed = await web.delete(
        f"/v1/communities/{c.id}/members/{banned.user_id}", params={"ban": "true"}, headers=c.owner.headers
    )
    assert removed.status_code in (200, 204), removed.text

    async def ban_known() -> bool:
        held = await resources_db.membership_members.find_one({"_id": f"{c.id}:{banned.user_id}"})
        return held is not None and bool(held.get("banned"))

    await eventually(ban_known, what="the ban in the resources view")
    problem(await web.put(url, headers=banned.headers), 404)  # no longer a member: may not see it
    marks = await resources_db.useful_marks.count_documents({"resource_id": rid})
    stored = await resources_db.resources.find_one({"_id": rid})
    assert marks == 2 and stored is not None and stored["useful_count"] == 2


async def test_a_banned_member_cannot_mark_a_network_item(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1)
    item = await create_note(web, c.owner, c.id, visibility="network")
    member = c.member
    own_draft = await create_note(web, member, c.id, status="draft")
    own_published = await create_note(web, member, c.id, visibility="network")
    removed = await web.delete(
        f"/v1/communities/{c.id}/members/{member.user_id}", params={"ban": "true"}, headers=c.owner.headers
    )
    assert removed.status_code in (200, 204), removed.text

    async def ban_known() -> bool:
        held = await resources_db.membership_members.find_one({"_id": f"{c.id}:{member.user_id}"})
        return held is not None and bool(held.get("banned"))

    await eventually(ban_known, what="the ban in the resources view")
    body = problem(await web.put(f"/v1/resources/{item['id']}/useful", headers=member.headers), 403)
    # Their own draft they still see (the rule shows a draft to its creator), but may no longer publish.
    problem(await web.post(f"/v1/resources/{own_draft['id']}/publish", headers=member.headers), 403)
    problem(await web.post(f"/v1/resources/{own_published['id']}/archive", headers=member.headers), 403)
    assert "banned" in body["detail"]
    assert (await web.put(f"/v1/resources/{item['id']}/useful", headers=new_person("x").headers)).status_code == 201


async def test_a_hidden_communitys_items_are_unknown_outside_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1, visibility="hidden")
    item = await create_note(web, c.member, c.id, visibility="network")
    outsider = new_person("outsider")
    rid = item["id"]
    for method, path in [
        ("GET", f"/v1/resources/{rid}/curation"),
        ("POST", f"/v1/resources/{rid}/publish"),
        ("POST", f"/v1/resources/{rid}/archive"),
        ("PUT", f"/v1/resources/{rid}/endorsement"),
        ("DELETE", f"/v1/resources/{rid}/endorsement"),
        ("PUT", f"/v1/resources/{rid}/useful"),
        ("DELETE", f"/v1/resources/{rid}/useful"),
        ("DELETE", f"/v1/resources/{rid}/review-by"),
        ("GET", f"/v1/communities/{c.id}/resources/recommended"),
        ("GET", f"/v1/communities/{c.id}/resources/review-due"),
    ]:
        unknown = await web.request(method, path, headers=outsider.headers)
        assert problem(unknown, 404)["detail"].startswith("no such"), (method, path)
    assert (await web.put(f"/v1/resources/{rid}/useful", headers=c.member.headers)).status_code == 201
    assert (await web.put(f"/v1/resources/{rid}/endorsement", headers=c.facilitator.headers)).status_code == 200


async def test_partners_may_read_and_mark_but_not_curate(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    partner = await circle(web, resources_db, members=1, facilitators=1, label="p")
    await link(web, resources_db, c, partner)
    item = await create_note(web, c.member, c.id, visibility="partners")
    rid = item["id"]
    assert (await curation(web, partner.facilitator, rid))["status"] == "published"  # a partner sees it
    for method, path, body in [
        ("POST", f"/v1/resources/{rid}/archive", None),
        ("PUT", f"/v1/resources/{rid}/endorsement", None),
        ("PUT", f"/v1/resources/{rid}/review-by", {"review_by": "2030-01-01T00:00:00Z"}),
        ("DELETE", f"/v1/resources/{rid}/review-by", None),
    ]:
        # Even the partner community's own facilitator: curation is the item's community's.
        problem(await web.request(method, path, json=body, headers=partner.facilitator.headers), 403)
    problem(await web.get(f"/v1/communities/{c.id}/resources/review-due", headers=partner.owner.headers), 403)
    assert (await web.put(f"/v1/resources/{rid}/useful", headers=partner.member.headers)).status_code == 201


async def test_racing_repeats_count_and_announce_once(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=2)
    item = await create_note(web, c.member, c.id, status="draft")
    rid = item["id"]

    marks = await asyncio.gather(*(web.put(f"/v1/resources/{rid}/useful", headers=c.member.headers) for _ in range(6)))
    assert sorted(r.status_code for r in marks) == [200] * 5 + [201]
    publishes = await asyncio.gather(
        *(web.post(f"/v1/resources/{rid}/publish", headers=p.headers) for p in [c.member, *c.facilitators] * 2)
    )
    assert {r.status_code for r in publishes} == {200}
    endorsements = await asyncio.gather(
        *(web.put(f"/v1/resources/{rid}/endorsement", headers=p.headers) for p in c.facilitators * 3)
    )
    assert {r.status_code for r in endorsements} == {200}
    assert len({r.json()["endorsed"]["at"] for r in endorsements}) == 1  # one endorsement, whoever won

    stored = await resources_db.resources.find_one({"_id": rid})
    assert stored is not None and stored["useful_count"] == 1 and stored["status"] == "published"
    assert await resources_db.useful_marks.count_documents({"resource_id": rid}) == 1
    messages = [m for m in await community_messages(nats_server.url, c.id) if m.type in (PUBLISHED, ENDORSED)]
    about = [m for m in messages if m.body["data"]["resource"]["id"] == rid]
    assert sorted(types_of(about)) == sorted([PUBLISHED, ENDORSED])


async def test_publishing_and_archiving_reach_search(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=2)
    author, reader = c.members
    word = f"qarx{secrets.token_hex(3)}"
    draft = await create_note(web, author, c.id, title=f"Rota {word}", status="draft")

    async def found(person: Any, **params: Any) -> set[str]:
        response = await web.get("/v1/search", params={"q": word, **params}, headers=person.headers)
        assert response.status_code == 200, response.text
        return {hit["id"] for hit in response.json()["items"]}

    async def author_finds_it() -> bool:
        return await found(author) == {draft["id"]}

    await eventually(author_finds_it, what="the draft in its creator's search")
    assert await found(reader) == set()
    assert (await web.post(f"/v1/resources/{draft['id']}/publish", headers=author.headers)).status_code == 200

    async def reader_finds_it() -> bool:
        return await found(reader) == {draft["id"]}

    await eventually(reader_finds_it, what="the published item in a member's search")
    assert (await web.post(f"/v1/resources/{draft['id']}/archive", headers=author.headers)).status_code == 200

    async def out_of_search() -> bool:
        return await found(reader) == set()

    await eventually(out_of_search, what="the archived item out of the default search")
