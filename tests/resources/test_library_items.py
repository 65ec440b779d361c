"""Library items of kind link and note, through the gateway: creating, reading, and every
field's bad input refused with a 422 naming it and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import Circle, circle, create_link, create_note, link_body, note_body
from tests.support.api import new_person, problem, problem_fields
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def test_a_member_adds_a_note_and_a_link(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db)
    note = await create_note(web, c.member, c.id, text="# Handover\n\nCheck the *drug chart*.\n")
    assert note["kind"] == "note" and note["status"] == "published" and note["visibility"] == "community"
    assert note["version"] == 1 and note["created_by"] == c.member.user_id and note["can_edit"] is True
    assert note["text"] == "# Handover\n\nCheck the *drug chart*."
    assert note["note_html"] == "<h1>Handover</h1>\n<p>Check the <em>drug chart</em>.</p>\n"
    assert note["tags"] == ["handover", "patient-safety"] and note["licence"] == "CC-BY-4.0"

    fetched = await web.get(f"/v1/resources/{note['id']}", headers=c.owner.headers)
    assert fetched.status_code == 200, fetched.text
    assert {k: v for k, v in fetched.json().items() if k != "can_edit"} == {
        k: v for k, v in note.items() if k != "can_edit"
    }

    link = await create_link(web, c.member, c.id, url="https://example.org/guide?x=1#part", status="draft")
    assert link["url"] == "https://example.org/guide?x=1#part" and link["text"] is None and link["status"] == "draft"

    stored = await resources_db.resources.find_one({"_id": note["id"]})
    assert stored is not None and stored["note_markdown"] == note["text"] and stored["shared_with"] == []
    version = await resources_db.resource_versions.find_one({"_id": f"{note['id']}:1"})
    assert version is not None and version["change"] == "created" and version["note_markdown"] == note["text"]
    assert await resources_db.resource_versions.count_documents({"resource_id": link["id"]}) == 0


async def test_script_in_a_note_is_sanitized(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db)
    text = '<script>alert(1)</script>\n\n[click](javascript:alert(1)) <img src=x onerror="alert(1)">'
    note = await create_note(web, c.member, c.id, text=text)
    html = note["note_html"]
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "alert" not in html  # left out with its tag (cmark-gfm omits raw HTML; nh3 drops what a script held)


@pytest.fixture(scope="module")
async def one_circle(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> Circle:
    """One community for all the bad-input cases (each would wait on the membership view)."""
    return await circle(web, resources_db)


CASES: list[tuple[str, Doc]] = [
    ("kind", {"kind": "file"}),
    ("kind", {"kind": {"$ne": None}}),
    ("title", {"title": ""}),
    ("title", {"title": "x" * 201}),
    ("title", {"title": "two\nlines"}),
    ("title", {"title": None}),
    ("summary", {"summary": "x" * 2001}),
    ("summary", {"summary": "bell\x07"}),
    ("tags", {"tags": [f"t{i}" for i in range(21)]}),
    ("tags.0", {"tags": ["not a slug"]}),
    ("tags.0", {"tags": ["x" * 41]}),
    ("authors", {"authors": [f"A{i}" for i in range(21)]}),
    ("authors.0", {"authors": [""]}),
    ("licence", {"licence": "GPL-3.0"}),
    ("source", {"source": "x" * 1001}),
    ("visibility", {"visibility": "everyone"}),
    ("status", {"status": "archived"}),
    ("text", {"text": ""}),
    ("text", {"text": "   "}),
    ("text", {"text": "x" * 200_001}),
    ("text", {"text": None}),
    ("url", {"url": "https://example.org"}),  # a note has no url
    ("surprise", {"surprise": 1}),
]

LINK_CASES: list[tuple[str, Doc]] = [
    ("url", {"url": "javascript:alert(1)"}),
    ("url", {"url": "JavaScript:alert(1)"}),
    ("url", {"url": "data:text/html,<script>alert(1)</script>"}),
    ("url", {"url": "file:///etc/passwd"}),
    ("url", {"url": "ftp://example.org/x"}),
    ("url", {"url": "https://user:secret@example.org/"}),
    ("url", {"url": "https://user@example.org/"}),
    ("url", {"url": "https:///nohost"}),
    ("url", {"url": "//example.org/x"}),
    ("url", {"url": "java\tscript:alert(1)"}),
    ("url", {"url": "https://example.org/a b"}),
    ("url", {"url": "https://example.org:99999/"}),
    ("url", {"url": "https://example.org/" + "x" * 2000}),
    ("url", {"url": None}),
    ("text", {"text": "a link has no text"}),
]


@pytest.mark.parametrize(("field", "change"), CASES, ids=[f"note-{f}-{i}" for i, (f, _) in enumerate(CASES)])
async def test_bad_note_fields_are_refused(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], one_circle: Circle, field: str, change: Doc
) -> None:
    await _refused(web, resources_db, one_circle, note_body(**change), field)


@pytest.mark.parametrize(("field", "change"), LINK_CASES, ids=[f"link-{f}-{i}" for i, (f, _) in enumerate(LINK_CASES)])
async def test_bad_link_fields_are_refused(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], one_circle: Circle, field: str, change: Doc
) -> None:
    await _refused(web, resources_db, one_circle, link_body(**change), field)


async def _refused(web: httpx.AsyncClient, db: AsyncDatabase[Doc], c: Circle, body: Doc, field: str) -> None:
    response = await web.post(f"/v1/communities/{c.id}/resources", json=body, headers=c.member.headers)
    assert field in problem_fields(response, 422), response.text
    assert await db.resources.count_documents({"community_id": c.id}) == 0
    assert await db.outbox.count_documents({"community_id": c.id}) == 0


async def test_a_link_and_a_note_need_their_content(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db)
    no_url = {k: v for k, v in link_body().items() if k != "url"}
    no_text = {k: v for k, v in note_body().items() if k != "text"}
    posted = await web.post(f"/v1/communities/{c.id}/resources", json=no_url, headers=c.member.headers)
    assert problem_fields(posted, 422) == {"url"}
    posted = await web.post(f"/v1/communities/{c.id}/resources", json=no_text, headers=c.member.headers)
    assert problem_fields(posted, 422) == {"text"}


async def test_only_active_members_add_items(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    c = await circle(web, resources_db, members=2)
    hidden = await circle(web, resources_db, visibility="hidden", label="hidden")
    outsider = new_person("outsider")
    posted = await web.post(f"/v1/communities/{c.id}/resources", json=note_body(), headers=outsider.headers)
    problem(posted, 403)
    posted = await web.post(f"/v1/communities/{hidden.id}/resources", json=note_body(), headers=outsider.headers)
    problem(posted, 404)  # a hidden community does not exist outside it
    posted = await web.post("/v1/communities/no-such/resources", json=note_body(), headers=c.member.headers)
    problem(posted, 404)

    banned = c.members[1]
    removed = await web.delete(
        f"/v1/communities/{c.id}/members/{banned.user_id}", params={"ban": "true"}, headers=c.owner.headers
    )
    assert removed.status_code == 204, removed.text

    async def ban_known() -> bool:
        held = await resources_db.membership_members.find_one({"_id": f"{c.id}:{banned.user_id}"})
        return held is not None and bool(held.get("banned"))

    await eventually(ban_known, what="the ban to reach resources")
    posted = await web.post(f"/v1/communities/{c.id}/resources", json=note_body(), headers=banned.headers)
    problem(posted, 403)
    assert await resources_db.resources.count_documents({"community_id": hidden.id}) == 0
    unauthenticated = await web.post(f"/v1/communities/{c.id}/resources", json=note_body())
    problem(unauthenticated, 401)
