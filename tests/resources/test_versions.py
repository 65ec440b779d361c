"""A note's versions, through the gateway: every change of its text is a version; list,
read, restore (a new version); who may; the messages (never with the text)."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_link, create_note
from tests.support.api import new_person, problem, problem_fields
from tests.support.bus import types_of, wait_for_messages

Doc = dict[str, Any]


async def test_a_note_edited_twice_and_restored(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    c = await circle(web, resources_db, members=2, facilitators=1)
    note = await create_note(web, c.member, c.id, text="first text", status="draft")
    url = f"/v1/resources/{note['id']}"

    edited = await web.patch(url, json={"text": "second *text*", "title": "Renamed"}, headers=c.member.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["note_html"] == "<p>second <em>text</em></p>\n"
    edited = await web.patch(url, json={"text": "third text", "status": "published"}, headers=c.facilitator.headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 3 and edited.json()["status"] == "published"
    same = await web.patch(url, json={"text": "third text"}, headers=c.member.headers)
    assert same.status_code == 200 and same.json()["version"] == 3  # unchanged text: no version

    listed = await web.get(f"{url}/versions", params={"limit": 2}, headers=c.members[1].headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [(v["number"], v["change"], v["created_by"], v["size"]) for v in page["items"]] == [
        (3, "edited", c.facilitator.user_id, len("third text")),
        (2, "edited", c.member.user_id, len("second *text*")),
    ]
    rest = await web.get(f"{url}/versions", params={"cursor": page["next_cursor"]}, headers=c.member.headers)
    assert [(v["number"], v["change"], v["title"]) for v in rest.json()["items"]] == [(1, "created", note["title"])]
    assert rest.json()["next_cursor"] is None

    first = await web.get(f"{url}/versions/1", headers=c.member.headers)
    assert first.status_code == 200 and first.json()["text"] == "first text"
    assert first.json()["note_html"] == "<p>first text</p>\n"
    problem(await web.get(f"{url}/versions/9", headers=c.member.headers), 404)
    assert problem_fields(await web.get(f"{url}/versions/zero", headers=c.member.headers), 422) == {"number"}

    problem(await web.post(f"{url}/versions/1/restore", headers=c.members[1].headers), 403)
    problem(await web.post(f"{url}/versions/1/restore", headers=new_person("x").headers), 404)
    problem(await web.post(f"{url}/versions/7/restore", headers=c.member.headers), 404)
    restored = await web.post(f"{url}/versions/1/restore", headers=c.member.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["version"] == 4 and restored.json()["text"] == "first text"
    fourth = (await web.get(f"{url}/versions/4", headers=c.member.headers)).json()
    assert fourth["change"] == "restored" and fourth["restored_from"] == 1 and fourth["text"] == "first text"
    assert await resources_db.resource_versions.count_documents({"resource_id": note["id"]}) == 4

    found = await wait_for_messages(nats_server.url, f"weft.resource.*.v1.{c.id}", at_least=9)
    assert (
        types_of(found)
        == [
            "org.weft.resource.created.v1",  # a draft: not published yet
            "org.weft.resource.updated.v1",
            "org.weft.resource.version_added.v1",
            "org.weft.resource.updated.v1",
            "org.weft.resource.version_added.v1",
            "org.weft.resource.published.v1",
            "org.weft.resource.updated.v1",
            "org.weft.resource.version_added.v1",
        ][: len(found)]
        and len(found) == 8
    )
    assert found[1].body["data"]["changed"] == ["title", "text"]
    assert found[3].body["data"]["changed"] == ["status", "text"]
    assert found[7].body["data"]["restored_from"] == 1 and found[7].body["data"]["version"] == 4
    for message in found:
        assert b"first text" not in message.raw and b"third text" not in message.raw


async def test_who_may_edit_and_bad_edits(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=2)
    note = await create_note(web, c.member, c.id)
    link = await create_link(web, c.member, c.id)
    url = f"/v1/resources/{note['id']}"
    problem(await web.patch(url, json={"title": "mine"}, headers=c.members[1].headers), 403)
    problem(await web.patch(url, json={"title": "mine"}, headers=new_person("x").headers), 404)
    assert (await web.patch(url, json={"title": "owner's"}, headers=c.owner.headers)).status_code == 200

    for body, field in (
        ({}, "body"),
        ({"title": None}, "title"),
        ({"tags": None}, "tags"),
        ({"text": None}, "text"),
        ({"text": "x" * 200_001}, "text"),
        ({"status": "draft"}, "status"),  # published stays published here
        ({"status": "archived"}, "status"),
        ({"url": "https://example.org"}, "url"),
        ({"kind": "link"}, "kind"),
        ({"visibility": {"$ne": None}}, "visibility"),
    ):
        refused = await web.patch(url, json=body, headers=c.member.headers)
        assert field in problem_fields(refused, 422), (body, refused.text)
    for body, field in (({"text": "no"}, "text"), ({"url": "javascript:alert(1)"}, "url"), ({"url": None}, "url")):
        refused = await web.patch(f"/v1/resources/{link['id']}", json=body, headers=c.member.headers)
        assert field in problem_fields(refused, 422), (body, refused.text)
    stored = await resources_db.resources.find_one({"_id": note["id"]})
    assert stored is not None and stored["title"] == "owner's" and stored["version"] == 1

    cleared = await web.patch(url, json={"licence": None, "source": None, "tags": []}, headers=c.member.headers)
    assert cleared.status_code == 200 and cleared.json()["licence"] is None and cleared.json()["tags"] == []
    moved = await web.patch(
        f"/v1/resources/{link['id']}", json={"url": "http://example.org/new"}, headers=c.member.headers
    )
    assert moved.status_code == 200 and moved.json()["url"] == "http://example.org/new" and moved.json()["version"] == 1
    versions = await web.get(f"/v1/resources/{link['id']}/versions", headers=c.member.headers)
    assert versions.status_code == 200 and versions.json()["items"] == []
