"""File items through the gateway, on the real servers: uploads of every allowed type
(made by tests/resources/sample_files.py), refusals that store nothing, downloads
(byte-identical, Range, ETag, safe headers), versions, and who may do what."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources import sample_files as samples
from tests.resources.file_uploads import community_with, gridfs_count, seen_as_member, upload, upload_version
from tests.support.api import join, new_person, problem, problem_fields
from tests.support.bus import wait_for_messages
from tests.support.waiting import eventually

Doc = dict[str, Any]

ALLOWED: list[tuple[str, Callable[[], bytes], str]] = [
    ("minutes.pdf", samples.pdf, "application/pdf"),
    ("chart.png", samples.png, "image/png"),
    ("photo.jpg", samples.jpeg, "image/jpeg"),
    ("anim.gif", samples.gif, "image/gif"),
    ("icon.webp", samples.webp, "image/webp"),
    ("audit.docx", samples.docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("scores.xlsx", samples.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("talk.pptx", samples.pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("minutes.odt", samples.odt, "application/vnd.oasis.opendocument.text"),
    ("rota.ods", samples.ods, "application/vnd.oasis.opendocument.spreadsheet"),
    ("welcome.odp", samples.odp, "application/vnd.oasis.opendocument.presentation"),
    ("old.doc", samples.ole2, "application/msword"),
    ("old.xls", lambda: samples.ole2("Workbook"), "application/vnd.ms-excel"),
    ("old.ppt", lambda: samples.ole2("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    ("notes.txt", samples.text, "text/plain; charset=utf-8"),
    ("scores.csv", lambda: b"ward,score\nA,9\n", "text/csv; charset=utf-8"),
    ("readme.md", lambda: "# Café notes\n\n- one\n".encode(), "text/markdown; charset=utf-8"),
]

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MACRO_DOCX = "application/vnd.ms-word.document.macroEnabled.main+xml"

REFUSED: list[tuple[str, str, Callable[[], bytes], str]] = [
    # (what, file name, bytes, declared type): the name and the declared type lie.
    ("ELF executable", "report.pdf", samples.elf, "application/pdf"),
    ("PE executable", "report.docx", samples.pe, DOCX),
    ("shell script", "notes.txt", samples.shell_script, "text/plain"),
    ("HTML", "notes.txt", samples.html, "text/plain"),
    ("SVG", "chart.png", samples.svg, "image/png"),
    ("plain ZIP", "audit.docx", samples.plain_zip, DOCX),
    ("macro-enabled Word", "audit.docx", lambda: samples.docx(main_type=MACRO_DOCX), "application/msword"),
    ("OLE2 that is no Office file", "old.doc", lambda: samples.ole2("SummaryInformation"), "application/msword"),
    ("billion laughs", "audit.docx", samples.billion_laughs_docx, "application/msword"),
    ("zip bomb", "audit.docx", samples.zip_bomb_docx, "application/msword"),
    ("binary with NULs", "notes.txt", lambda: b"text\x00\x01\x02", "text/plain"),
    ("not UTF-8", "notes.txt", lambda: "caf\xe9".encode("latin-1"), "text/plain"),
    ("empty file", "empty.pdf", lambda: b"", "application/pdf"),
]  # fmt: skip


@pytest.fixture
async def team(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> dict[str, Any]:
    owner, member = new_person("owner"), new_person("member")
    community_id = await community_with(web, resources_db, owner, member)
    return {"owner": owner, "member": member, "community_id": community_id}


async def test_every_allowed_type_is_accepted_as_its_sniffed_type(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    for name, make, expected in ALLOWED:
        data = make()
        response = await upload(web, team["member"], team["community_id"], name, data)
        assert response.status_code == 201, (name, response.text)
        item = response.json()
        assert item["kind"] == "file" and item["version"] == 1 and item["created_by"] == team["member"].user_id
        assert {k: v for k, v in item["file"].items() if k != "file_id"} == {
            "filename": name,
            "content_type": expected,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }, name
        version = await resources_db.resource_versions.find_one({"_id": f"{item['id']}:1"})
        assert version is not None and version["file"]["content_type"] == expected
        gridfs = await resources_db["files.files"].find_one({"_id": version["file"]["file_id"]})
        assert gridfs is not None and gridfs["length"] == len(data)


async def test_text_is_extracted_for_search_from_pdf_and_office_documents(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    cases = {
        "guide.pdf": (samples.pdf("Deprescribing in frail older adults"), "Deprescribing in frail older adults"),
        "audit.docx": (samples.docx(("Hand hygiene audit", "Ward 7 results")), "Hand hygiene audit\nWard 7 results"),
        "talk.pptx": (samples.pptx(("Sepsis", "Early signs")), "Sepsis"),
        "scores.xlsx": (samples.xlsx(("Ward", "Pressure ulcers")), "Pressure ulcers"),
        "minutes.odt": (samples.odt("Peer support circle"), "Peer support circle"),
        "photo.png": (samples.png(), ""),
    }
    for name, (data, expected) in cases.items():
        response = await upload(web, team["member"], team["community_id"], name, data)
        assert response.status_code == 201, response.text
        version = await resources_db.resource_versions.find_one({"_id": f"{response.json()['id']}:1"})
        assert version is not None
        assert expected in version["extracted_text"], (name, version["extracted_text"])
        if not expected:
            assert version["extracted_text"] == ""


async def test_refused_files_are_415_naming_file_and_store_nothing(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    before = await gridfs_count(resources_db)
    items_before = await resources_db.resources.count_documents({"community_id": team["community_id"]})
    for what, name, make, declared in REFUSED:
        response = await upload(web, team["member"], team["community_id"], name, make(), declared=declared)
        assert problem_fields(response, 415) == {"file"}, what
    assert await gridfs_count(resources_db) == before
    assert await resources_db.resources.count_documents({"community_id": team["community_id"]}) == items_before


async def test_bad_upload_requests_name_what_is_wrong(web: httpx.AsyncClient, team: dict[str, Any]) -> None:
    member, community_id = team["member"], team["community_id"]
    url = f"/v1/communities/{community_id}/resources/files"
    no_file = await web.post(
        url, files={"metadata": (None, '{"title": "x"}', "application/json")}, headers=member.headers
    )
    assert problem_fields(no_file, 422) == {"file"}
    no_metadata = await web.post(url, files={"file": ("a.txt", b"hello", "text/plain")}, headers=member.headers)
    assert problem_fields(no_metadata, 422) == {"metadata"}
    for fields, named in (
        ({"title": ""}, "metadata.title"),
        ({"title": "ok", "licence": "GPL"}, "metadata.licence"),
        ({"title": "ok", "visibility": "everyone"}, "metadata.visibility"),
        ({"title": {"$ne": None}}, "metadata.title"),
        ({"title": "ok", "kind": "note"}, "metadata.kind"),
    ):
        response = await upload(web, member, community_id, "a.txt", b"hello", fields=fields)
        assert named in problem_fields(response, 422), (fields, response.text)
    extra = await web.post(
        url,
        files={"metadata": (None, '{"title": "x"}', "application/json"), "file": ("a.txt", b"hi", "text/plain"),
               "other": (None, "1", "text/plain")},
        headers=member.headers,
    )  # fmt: skip
    assert problem_fields(extra, 422) == {"other"}
    not_multipart = await web.post(url, json={"title": "x"}, headers=member.headers)
    assert problem_fields(not_multipart, 415) == {"body"}
    # A body without its closing boundary is cut short: not a whole file, and nothing is stored.
    unclosed = (
        b'--abc\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"title": "t"}\r\n'
        b'--abc\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello'
    )
    headers = {**member.headers, "content-type": "multipart/form-data; boundary=abc"}
    assert problem_fields(await web.post(url, content=unclosed, headers=headers), 400) == {"body"}


async def test_downloads_are_byte_identical_with_validators_and_safe_headers(
    web: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    data = samples.pdf("Ranges and validators") + b"\n% padding\n" * 50_000  # several GridFS chunks
    name = 'evil "name"\r\nX-Injected: 1 ../../etc/passwd café.pdf'
    created = await upload(web, team["member"], team["community_id"], name, data)
    assert created.status_code == 201, created.text
    item = created.json()
    assert "/" not in item["file"]["filename"] and "\n" not in item["file"]["filename"]
    url = f"/v1/resources/{item['id']}/file"
    headers = team["owner"].headers

    whole = await web.get(url, headers=headers)
    assert whole.status_code == 200
    assert whole.content == data
    sha = hashlib.sha256(data).hexdigest()
    assert whole.headers["etag"] == f'"{sha}"' and item["file"]["sha256"] == sha
    assert whole.headers["content-length"] == str(len(data))
    assert whole.headers["content-type"] == "application/pdf"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["content-security-policy"] == "sandbox"
    assert "x-injected" not in whole.headers
    disposition = whole.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and "/" not in fallback and "\\" not in fallback and "\r" not in disposition
    exact = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    assert exact == item["file"]["filename"] and exact.endswith("passwd café.pdf")

    last = len(data) - 1
    ranges = [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, last),
        ("bytes=-5", last - 4, last),
        ("bytes=300000-300099", 300_000, 300_099),  # across a chunk boundary (255 KiB)
        (f"bytes=10-{len(data) * 2}", 10, last),
    ]
    for asked, start, end in ranges:
        part = await web.get(url, headers={**headers, "Range": asked})
        assert part.status_code == 206, asked
        assert part.content == data[start : end + 1], asked
        assert part.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
        assert part.headers["content-length"] == str(end - start + 1)

    past = await web.get(url, headers={**headers, "Range": f"bytes={len(data)}-"})
    assert problem_fields(past, 416) == {"Range"}
    assert past.headers["content-range"] == f"bytes */{len(data)}"
    several = await web.get(url, headers={**headers, "Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.content == data
    stale = await web.get(url, headers={**headers, "Range": "bytes=0-9", "If-Range": '"another"'})
    assert stale.status_code == 200 and stale.content == data

    cached = await web.get(url, headers={**headers, "If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304 and cached.content == b"" and cached.headers["etag"] == f'"{sha}"'
    changed = await web.get(url, headers={**headers, "If-None-Match": '"something-else"'})
    assert changed.status_code == 200


async def test_a_new_upload_makes_the_next_version(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    first, second = samples.text("first draft\n"), samples.docx(("Second draft",))
    created = await upload(web, team["member"], team["community_id"], "plan.txt", first)
    item_id = created.json()["id"]
    added = await upload_version(web, team["member"], item_id, "plan.docx", second)
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 2 and added.json()["file"]["filename"] == "plan.docx"
    assert (await web.get(f"/v1/resources/{item_id}/file", headers=team["owner"].headers)).content == second
    old = await web.get(f"/v1/resources/{item_id}/versions/1/file", headers=team["owner"].headers)
    assert old.content == first and old.headers["content-type"] == "text/plain; charset=utf-8"
    current = await web.get(f"/v1/resources/{item_id}/versions/2/file", headers=team["owner"].headers)
    assert current.content == second
    problem(await web.get(f"/v1/resources/{item_id}/versions/3/file", headers=team["owner"].headers), 404)
    version = await resources_db.resource_versions.find_one({"_id": f"{item_id}:2"})
    assert version is not None
    assert version["change"] == "uploaded" and version["created_by"] == team["member"].user_id
    assert "Second draft" in version["extracted_text"]

    # The owner (staff) may add a version; another member may see the item but not change it.
    assert (await upload_version(web, team["owner"], item_id, "plan.txt", b"third\n")).status_code == 201
    other = new_person("other")
    assert (await join(web, team["community_id"], other)).status_code in (200, 201)
    await seen_as_member(resources_db, team["community_id"], other.user_id)
    problem(await upload_version(web, other, item_id, "plan.txt", b"mine\n"), 403)
    # A refused new version changes nothing.
    before = await gridfs_count(resources_db)
    problem(await upload_version(web, team["member"], item_id, "plan.txt", samples.elf()), 415)
    assert await gridfs_count(resources_db) == before
    assert (await resources_db.resources.find_one({"_id": item_id}) or {})["version"] == 3


async def test_outsiders_banned_members_and_hidden_communities(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    outsider = new_person("outsider")
    refused = await upload(web, outsider, team["community_id"], "a.txt", b"hello\n")
    problem(refused, 403)  # the community is public: it exists, but they may not post in it

    item = (await upload(web, team["member"], team["community_id"], "a.txt", b"hello\n")).json()
    # A community item is for members: to an outsider it does not exist.
    unknown = await web.get("/v1/resources/no-such-item/file", headers=outsider.headers)
    not_theirs = await web.get(f"/v1/resources/{item['id']}/file", headers=outsider.headers)
    assert problem(not_theirs, 404)["detail"] == problem(unknown, 404)["detail"]
    problem(await upload_version(web, outsider, item["id"], "a.txt", b"x\n"), 404)

    banned = await web.delete(
        f"/v1/communities/{team['community_id']}/members/{team['member'].user_id}",
        params={"ban": "true"},
        headers=team["owner"].headers,
    )
    assert banned.status_code in (200, 204), banned.text
    await seen_as_member(resources_db, team["community_id"], team["member"].user_id, active=False)
    problem(await upload(web, team["member"], team["community_id"], "b.txt", b"again\n"), 403)

    owner = new_person("owner")
    hidden = await community_with(web, resources_db, owner, visibility="hidden")
    secret = await upload(web, owner, hidden, "secret.txt", b"inside only\n")
    assert secret.status_code == 201, secret.text
    assert (await web.get(f"/v1/resources/{secret.json()['id']}/file", headers=owner.headers)).status_code == 200
    leaked = await web.get(f"/v1/resources/{secret.json()['id']}/file", headers=outsider.headers)
    assert problem(leaked, 404)["detail"] == problem(unknown, 404)["detail"]
    unknown_community = await upload(web, outsider, "no-such-community", "a.txt", b"x\n")
    assert (
        problem(await upload(web, outsider, hidden, "a.txt", b"x\n"), 404)["detail"]
        == problem(unknown_community, 404)["detail"]
    )


async def test_a_files_text_is_found_by_search_and_follows_its_versions(
    web: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    word, later = f"zqx{secrets.token_hex(3)}", f"wvy{secrets.token_hex(3)}"
    created = await upload(
        web, team["member"], team["community_id"], "guide.pdf", samples.pdf(f"Deprescribing {word} guidance")
    )
    item_id = created.json()["id"]

    async def hits(term: str) -> list[dict[str, Any]]:
        answer = await web.get("/v1/search", params={"q": term}, headers=team["owner"].headers)
        assert answer.status_code == 200, answer.text
        return [h for h in answer.json()["items"] if h["id"] == item_id]

    found = await eventually(lambda: hits(word), what="the PDF's text in search")
    assert f"<mark>{word}</mark>" in found[0]["snippet"]
    assert await hits(word) and not await hits(later)
    added = await upload_version(web, team["member"], item_id, "guide.docx", samples.docx((f"Revised {later}",)))
    assert added.status_code == 201
    await eventually(lambda: hits(later), what="the new version's text in search")
    assert await hits(word) == []  # search shows the current version's text only
    outsider = new_person("outsider")
    hidden = await web.get("/v1/search", params={"q": later}, headers=outsider.headers)
    assert [h for h in hidden.json()["items"] if h["id"] == item_id] == []


async def test_an_upload_retried_with_its_idempotency_key_is_stored_once(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], team: dict[str, Any]
) -> None:
    data = samples.pdf("Once only") + b"\n% padding\n" * 200_000  # past the key's in-memory spool (1 MiB)
    key = {"Idempotency-Key": f"upload-{secrets.token_hex(4)}"}
    url = f"/v1/communities/{team['community_id']}/resources/files"

    def parts(body: bytes) -> dict[str, Any]:
        return {
            "metadata": (None, '{"title": "Once"}', "application/json"),
            "file": ("once.pdf", body, "application/pdf"),
        }

    # One multipart body, sent twice byte for byte (httpx would pick a new boundary each time).
    request = web.build_request("POST", url, files=parts(data), headers={**team["member"].headers, **key})
    body = request.read()
    headers = {**team["member"].headers, **key, "Content-Type": request.headers["Content-Type"]}
    first = await web.post(url, content=body, headers=headers)
    again = await web.post(url, content=body, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await resources_db.resources.count_documents({"community_id": team["community_id"], "title": "Once"}) == 1
    other = await web.post(url, files=parts(data + b"%"), headers={**team["member"].headers, **key})
    problem(other, 422)
    download = await web.get(f"/v1/resources/{first.json()['id']}/file", headers=team["member"].headers)
    assert download.content == data


async def test_restoring_a_file_version_serves_its_bytes_again(web: httpx.AsyncClient, team: dict[str, Any]) -> None:
    first, second = samples.text("first\n"), samples.png()
    item_id = (await upload(web, team["member"], team["community_id"], "a.txt", first)).json()["id"]
    assert (await upload_version(web, team["member"], item_id, "b.png", second)).status_code == 201
    restored = await web.post(f"/v1/resources/{item_id}/versions/1/restore", headers=team["member"].headers)
    assert restored.status_code in (200, 201), restored.text
    assert restored.json()["version"] == 3 and restored.json()["file"]["filename"] == "a.txt"
    current = await web.get(f"/v1/resources/{item_id}/file", headers=team["member"].headers)
    assert current.content == first and current.headers["content-type"] == "text/plain; charset=utf-8"
    listed = await web.get(f"/v1/resources/{item_id}/versions", headers=team["member"].headers)
    assert [(v["number"], v["change"], v["size"]) for v in listed.json()["items"]] == [
        (3, "restored", len(first)),
        (2, "uploaded", len(second)),
        (1, "uploaded", len(first)),
    ]


async def test_uploads_announce_the_item_and_its_versions_without_their_text(
    web: httpx.AsyncClient, team: dict[str, Any], nats_server: Any
) -> None:
    community_id = team["community_id"]
    secret_text = f"confidential{secrets.token_hex(3)}"
    created = await upload(web, team["member"], community_id, "notes.pdf", samples.pdf(secret_text))
    item_id = created.json()["id"]
    assert (await upload_version(web, team["member"], item_id, "notes.txt", b"second\n")).status_code == 201
    subject = f"weft.resource.*.v1.{community_id}"

    async def about_item() -> list[Any]:
        found = await wait_for_messages(nats_server.url, subject, at_least=1)
        mine = [m for m in found if m.body["data"]["resource"]["id"] == item_id]
        return mine if len(mine) >= 3 else []

    messages = await eventually(about_item, what="the item's messages")
    assert [m.type for m in messages] == [
        "org.weft.resource.created.v1",
        "org.weft.resource.published.v1",
        "org.weft.resource.version_added.v1",
    ]
    added = messages[-1].body["data"]
    assert added["version"] == 2 and added["added_by"] == team["member"].user_id
    assert added["resource"]["file"]["filename"] == "notes.txt" and added["resource"]["file"]["size"] == 7
    assert all(secret_text not in m.raw.decode() for m in messages)
