"""Personal-data export through the gateway: a person with data in every service asks
for it, is told (inbox and mail), downloads one archive holding their data from every
service and nobody else's; nobody else can fetch it; a replayed request doubles nothing."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import nats
import pytest
from nats.js.errors import NotFoundError

from tests.events.conftest import schedule
from tests.resources.discussions import reply, start_thread
from tests.support.api import Person, create_community, join, new_person, problem, problem_fields
from tests.support.bus import stream_messages
from tests.support.smtp import SmtpServer
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_shared.contracts.envelope import wrap
from weft_shared.contracts.privacy_export import ExportRequested
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.consumer import envelope_bytes

Doc = dict[str, Any]
SERVICES = {"membership", "events", "notifications", "resources"}


@pytest.fixture
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=15) as http:
        yield http


async def _until(web: httpx.AsyncClient, method: str, path: str, person: Person, ok: int, **kw: Any) -> Doc:
    """Retry while a service has not yet learnt the membership this needs (403/404)."""

    async def attempt() -> Doc | None:
        response = await web.request(method, path, headers=person.headers, **kw)
        if response.status_code in (403, 404):
            return None
        assert response.status_code == ok, response.text
        body: Doc = response.json()
        return body

    result: Doc = await eventually(attempt, what=f"{method} {path}")
    return result


async def _community_with_data(web: httpx.AsyncClient, owner: Person, mia: Person, ben: Person) -> Doc:
    community = await create_community(web, owner)
    cid = community["id"]
    for person in (mia, ben):
        assert (await join(web, cid, person)).status_code in (200, 201)
    event = await schedule(web, cid, owner)
    for person in (mia, ben):
        await _until(web, "PUT", f"/v1/events/{event['id']}/rsvp", person, 201, json={"attendance": "in_person"})
    mia_thread = await _until(
        web,
        "POST",
        f"/v1/communities/{cid}/threads",
        mia,
        201,
        json={"kind": "discussion", "title": "Mia asks about handovers", "body": "How do you do it?"},
    )
    await start_thread(web, cid, ben, title="Ben's own thread about rotas", body="Ben's words")
    await reply(web, mia_thread["id"], owner, body="We use SBAR.")

    async def mia_told_of_reply() -> list[Doc]:
        items = (await web.get("/v1/me/notifications", headers=mia.headers)).json()["items"]
        return [i for i in items if i["type"] == "reply_posted"]

    [told] = await eventually(mia_told_of_reply, what="mia's inbox item about the reply")
    return {"community": cid, "event": event["id"], "thread": mia_thread["id"], "inbox_item": told["id"]}


async def _ready(web: httpx.AsyncClient, person: Person, export_id: str) -> Doc:
    async def ready() -> Doc | None:
        listed = (await web.get("/v1/me/export", headers=person.headers)).json()["items"]
        found = [e for e in listed if e["id"] == export_id and e["status"] == "ready"]
        return found[0] if found else None

    result: Doc = await eventually(ready, what="the export to be ready")
    return result


def _unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_an_export_holds_the_persons_data_from_every_service_and_nobody_elses(
    web: httpx.AsyncClient, session_smtp: SmtpServer, nats_server: Any
) -> None:
    owner, mia, ben = new_person("owner"), new_person("mia"), new_person("ben")
    made = await _community_with_data(web, owner, mia, ben)

    # Asked for at once, several times: one export starts; the others return it.
    asked = await asyncio.gather(*(web.post("/v1/me/export", headers=mia.headers) for _ in range(3)))
    assert sorted(r.status_code for r in asked) == [200, 200, 202], [r.text for r in asked]
    assert len({r.json()["id"] for r in asked}) == 1
    started = next(r for r in asked if r.status_code == 202)
    assert started.headers["location"] == "/v1/me/export"
    export_id = started.json()["id"]
    assert started.json()["status"] == "pending"

    ready = await _ready(web, mia, export_id)
    assert set(ready["parts_received"]) == SERVICES and ready["missing"] == []
    assert ready["archive_url"] == f"/v1/me/export/{export_id}/archive"

    download = await web.get(ready["archive_url"], headers=mia.headers)
    assert download.status_code == 200, download.text
    assert download.headers["content-type"] == "application/zip"
    assert f'filename="weft-personal-data-{export_id}.zip"' in download.headers["content-disposition"]
    files = _unzip(download.content)
    assert set(files) == {"README.txt", "manifest.json"} | {f"{s}.json" for s in SERVICES}
    manifest = json.loads(files["manifest.json"])
    assert manifest["user_id"] == mia.user_id and set(manifest["services"]) == SERVICES
    for service in SERVICES:
        assert manifest["files"][f"{service}.json"]["sha256"] == hashlib.sha256(files[f"{service}.json"]).hexdigest()
    assert "download_path" in files["README.txt"].decode()

    parts = {s: json.loads(files[f"{s}.json"]) for s in SERVICES}
    assert all(p["user_id"] == mia.user_id and p["export_id"] == export_id for p in parts.values())
    membership = parts["membership"]["data"]
    assert membership["profile"]["email"] == mia.email
    assert [m["community_id"] for m in membership["memberships"]] == [made["community"]]
    assert [m["role"] for m in membership["memberships"]] == ["member"]
    # Other people's ids (the community's owners) are not in her export.
    assert all("owners" not in c for c in membership["communities_of_your_memberships"])
    events = parts["events"]["data"]
    assert [(r["event_id"], r["user_id"], r["mode"]) for r in events["rsvps"]] == [
        (made["event"], mia.user_id, "in_person")
    ]
    resources = parts["resources"]["data"]
    assert [t["title"] for t in resources["threads_started"]] == ["Mia asks about handovers"]
    assert resources["replies_written"] == []
    notifications = parts["notifications"]["data"]
    assert made["inbox_item"] in [i["_id"] for i in notifications["inbox"]]
    assert all(i["user_id"] == mia.user_id for i in notifications["inbox"])

    # Nobody else's data: ben is in the same community, with an RSVP and a thread of his own.
    everything = b"".join(files.values()).decode()
    assert ben.email not in everything
    assert f"{made['event']}:{ben.user_id}" not in everything
    assert "Ben's own thread" not in everything and "Ben's words" not in everything

    # She is told: an inbox item and a mail with the link.
    async def told() -> list[Doc]:
        items = (await web.get("/v1/me/notifications", headers=mia.headers)).json()["items"]
        return [i for i in items if i["type"] == "export_ready"]

    [item] = await eventually(told, what="the export_ready inbox item")
    assert item["target"]["export_id"] == export_id
    [mail] = await eventually(lambda: _mails(session_smtp, mia.email), what="the export_ready mail")
    assert f"/v1/me/export/{export_id}/archive" in mail.get_body(preferencelist=("plain",)).get_content()

    # Nobody else may fetch it: the same 404 as an export that does not exist.
    problem(await web.get(ready["archive_url"], headers=ben.headers), 404)
    problem(await web.get(f"/v1/me/export/{'0' * 24}/archive", headers=mia.headers), 404)
    assert export_id not in [e["id"] for e in (await web.get("/v1/me/export", headers=ben.headers)).json()["items"]]
    # Ids that cannot name an export are refused, naming the field; no token is a 401.
    assert "export_id" in problem_fields(await web.get("/v1/me/export/not-an-id/archive", headers=mia.headers), 422)
    problem(await web.get(ready["archive_url"]), 401)

    await _replay_does_not_double(web, nats_server.url, mia, export_id, download.content)

    # Asking again within the hour gives that export back (each one reads every service and
    # sends a mail: repeated asks must not multiply them).
    for _ in range(3):
        soon = await web.post("/v1/me/export", headers=mia.headers)
        assert soon.status_code == 200 and soon.json()["id"] == export_id, soon.text


async def _mails(smtp: SmtpServer, address: str) -> list[Any]:
    return [m for m in smtp.catcher.to(address) if "export" in str(m["Subject"]).lower()]


async def _replay_does_not_double(
    web: httpx.AsyncClient, nats_url: str, mia: Person, export_id: str, archive: bytes
) -> None:
    """The request replayed as a new message (as after the processed-message records
    expired): every service rewrites its part under the same name and announces it
    again; the export keeps one part per service and its archive."""
    request = ExportRequested(export_id=export_id, user_id=mia.user_id)
    envelope = wrap(request, source="/weft/membership", subject=None, community_id=None)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish(subject_for("weft", ExportRequested, None), envelope_bytes(envelope))

        async def announced_again() -> bool:
            messages = await stream_messages(nats_url, "weft.person.export_part_ready.v1.network")
            mine = [m for m in messages if m.body["data"]["export_id"] == export_id]
            return len(mine) == 2 * len(SERVICES)

        await eventually(announced_again, what="every service to answer the replayed request")
        objects = await (await nc.jetstream().object_store("WEFT_EXPORTS")).list()
        names = sorted(o.name for o in objects if o.name.startswith(f"{export_id}/") and not o.deleted)
        assert names == sorted([f"{export_id}/archive.zip"] + [f"{export_id}/{s}.json" for s in SERVICES])
    finally:
        await nc.close()
    [listed] = [
        e for e in (await web.get("/v1/me/export", headers=mia.headers)).json()["items"] if e["id"] == export_id
    ]
    assert listed["status"] == "ready" and sorted(listed["parts_received"]) == sorted(SERVICES)
    again = await web.get(f"/v1/me/export/{export_id}/archive", headers=mia.headers)
    assert again.content == archive


async def test_an_export_missing_a_part_past_its_deadline_is_incomplete_and_the_person_is_told(
    web: httpx.AsyncClient, start_service: Any
) -> None:
    """A membership replica that waits for a service that never answers ("ghost"): the
    archive is refused while pending (409); past the deadline it is assembled from the
    parts that came, marked incomplete naming what is missing, and the person is told."""
    waiting = start_service(
        "membership",
        env={
            "WEFT_EXPORT_SERVICES": '["membership", "ghost"]',
            "WEFT_EXPORT_DEADLINE_MINUTES": "0.1",
            "WEFT_EXPORT_DEADLINE_POLL_SECONDS": "0.5",
        },
    )
    zoe = new_person("zoe")
    async with httpx.AsyncClient(base_url=waiting.url, timeout=15) as replica:
        started = await replica.post("/v1/me/export", headers=zoe.headers)
        assert started.status_code == 202, started.text
        export_id = started.json()["id"]
        assert started.json()["services_expected"] == ["membership", "ghost"]
        problem(await replica.get(f"/v1/me/export/{export_id}/archive", headers=zoe.headers), 409)

    async def incomplete() -> Doc | None:
        listed = (await web.get("/v1/me/export", headers=zoe.headers)).json()["items"]
        found = [e for e in listed if e["id"] == export_id and e["status"] == "incomplete"]
        return found[0] if found else None

    finished = await eventually(incomplete, what="the export to be marked incomplete")
    assert finished["missing"] == ["ghost"] and finished["parts_received"] == ["membership"]
    files = _unzip((await web.get(finished["archive_url"], headers=zoe.headers)).content)
    assert set(files) == {"README.txt", "manifest.json", "membership.json"}
    assert "NOT INCLUDED" in files["README.txt"].decode() and "ghost" in files["README.txt"].decode()
    assert json.loads(files["manifest.json"])["missing_services"] == ["ghost"]

    async def told() -> list[Doc]:
        items = (await web.get("/v1/me/notifications", headers=zoe.headers)).json()["items"]
        return [i for i in items if i["type"] == "export_incomplete"]

    [item] = await eventually(told, what="the export_incomplete inbox item")
    assert item["target"]["export_id"] == export_id and "ghost" in item["text"]


async def test_erasing_a_person_removes_their_export_objects_and_records(
    web: httpx.AsyncClient, nats_server: Any
) -> None:
    """What an export gathered about a person must not outlive their erasure in the store."""
    kit = new_person("kit")
    started = await web.post("/v1/me/export", headers=kit.headers)
    assert started.status_code == 202, started.text
    export_id = started.json()["id"]
    await _ready(web, kit, export_id)

    async def objects() -> list[str]:
        nc = await nats.connect(nats_server.url)
        try:
            store = await nc.jetstream().object_store("WEFT_EXPORTS")
            try:
                listed = await store.list()
            except NotFoundError:  # nats-py's answer for a bucket that holds nothing
                return []
            return [info.name for info in listed if info.name.startswith(export_id) and not info.deleted]
        finally:
            await nc.close()

    assert len(await objects()) == 5  # four parts and the archive
    old = kit.headers
    erased = await web.delete("/v1/me", headers=old)
    assert erased.status_code == 202, erased.text
    assert await objects() == []
    assert (await web.get(f"/v1/me/export/{export_id}/archive", headers=old)).status_code == 401
