"""Search with two resources replicas behind one database: the session's (with its
gateway, `web`) and a second one started here with its own index folder and its own
gateway (it shares the durable consumer, as replicas do). A change made through one is
found through both; a replica that was down catches up when it comes back; one whose
index folder is gone or corrupt rebuilds it and answers the same as the other."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from tests.conftest import StartService
from tests.resources.discussions import reply, start_thread
from tests.resources.library import Circle, circle, create_note
from tests.support.api import Person
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess

Doc = dict[str, Any]
# Each test starts a replica and its gateway and restarts the replica: slow on two shared cores.
pytestmark = pytest.mark.timeout(300)
JUNK = b"\x00not an index\xff" * 64


@dataclass
class Replica:
    name: str
    client: httpx.AsyncClient
    service: ServiceProcess | None = None  # the second replica (the session's is not ours to stop)
    folder: Path | None = None

    def stop(self) -> None:
        assert self.service is not None
        self.service.stop()

    def start(self) -> None:
        assert self.service is not None
        self.service.start()


@pytest.fixture
async def replicas(
    web: httpx.AsyncClient, start_service: StartService, membership_service: ServiceProcess, tmp_path: Path
) -> AsyncIterator[tuple[Replica, Replica]]:
    folder = tmp_path / "search-b"
    resources = start_service("resources", env={"WEFT_RESOURCES_SEARCH_INDEX_DIR": str(folder)})
    gateway = start_service(
        "gateway",
        env={"WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url, "WEFT_GATEWAY_RESOURCES_URL": resources.url},
    )
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
        yield Replica("a", web), Replica("b", client, resources, folder)


def word() -> str:
    return "zr" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))


async def found(replica: Replica, person: Person, q: str) -> set[str] | None:
    """The ids found through this replica, or None while it is (re)opening its index (503)."""
    response = await replica.client.get("/v1/search", params={"q": q, "limit": 50}, headers=person.headers)
    if response.status_code == 503:
        return None
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["items"]}


async def until_found(replica: Replica, person: Person, q: str, expected: set[str]) -> None:
    async def check() -> bool:
        return await found(replica, person, q) == expected

    await eventually(check, timeout=60, what=f"replica {replica.name}: {q!r} to give {expected}")


async def both_find(replicas: tuple[Replica, Replica], person: Person, q: str, expected: set[str]) -> None:
    for replica in replicas:
        await until_found(replica, person, q, expected)


async def same_answers(replicas: tuple[Replica, Replica], person: Person, q: str) -> None:
    """Hit for hit (id, type, title, snippet) the same through either replica."""
    pages = []
    for replica in replicas:
        response = await replica.client.get("/v1/search", params={"q": q}, headers=person.headers)
        assert response.status_code == 200, response.text
        pages.append(sorted((h["id"], h["type"], h["title"], h["snippet"]) for h in response.json()["items"]))
    assert pages[0] == pages[1]


async def seeded(web: httpx.AsyncClient, db: AsyncDatabase[Doc], label: str) -> tuple[Circle, str, dict[str, str]]:
    """A community with an item, a thread and a reply sharing a new word."""
    home = await circle(web, db, members=1, label=label)
    w = word()
    item = await create_note(web, home.owner, home.id, title=f"Checklist {w}", text="Bring the form.")
    thread = await start_thread(web, home.id, home.member, title="Handover", body=f"The {w} sheet.")
    answer = await reply(web, thread["id"], home.owner, body=f"Use the {w} sheet.")
    return home, w, {"item": item["id"], "thread": thread["id"], "reply": answer["id"]}


async def test_a_change_through_one_replica_is_found_through_both(
    resources_db: AsyncDatabase[Doc], replicas: tuple[Replica, Replica]
) -> None:
    a, b = replicas
    home = await circle(a.client, resources_db, members=1, label="replicas")
    w = word()
    item = await a.client.post(
        f"/v1/communities/{home.id}/resources",
        json={"kind": "note", "title": f"Checklist {w}", "text": "Bring the form."},
        headers=home.owner.headers,
    )
    assert item.status_code == 201, item.text
    thread = await b.client.post(
        f"/v1/communities/{home.id}/threads",
        json={"kind": "discussion", "title": f"Rota {w}", "body": "Who covers nights?"},
        headers=home.member.headers,
    )
    assert thread.status_code == 201, thread.text
    await both_find(replicas, home.member, w, {item.json()["id"], thread.json()["id"]})

    edited = await b.client.patch(
        f"/v1/resources/{item.json()['id']}", json={"title": "Checklist"}, headers=home.owner.headers
    )
    assert edited.status_code == 200, edited.text
    await both_find(replicas, home.member, w, {thread.json()["id"]})
    await same_answers(replicas, home.member, w)


async def test_a_stopped_replica_catches_up_when_it_comes_back(
    resources_db: AsyncDatabase[Doc], replicas: tuple[Replica, Replica]
) -> None:
    a, b = replicas
    home, w, made = await seeded(a.client, resources_db, "replicas-down")
    await both_find(replicas, home.member, w, set(made.values()))

    b.stop()  # while it is down: the item loses the word, the reply is edited away, a note gains it
    edited = await a.client.patch(
        f"/v1/resources/{made['item']}", json={"title": "Checklist"}, headers=home.owner.headers
    )
    assert edited.status_code == 200, edited.text
    rewritten = await a.client.patch(f"/v1/replies/{made['reply']}", json={"body": "Done."}, headers=home.owner.headers)
    assert rewritten.status_code == 200, rewritten.text
    later = await create_note(a.client, home.owner, home.id, title=f"Later {w}", text="Made while b was down.")
    expected = {made["thread"], later["id"]}
    await until_found(a, home.member, w, expected)
    b.start()
    await until_found(b, home.member, w, expected)
    await same_answers(replicas, home.member, w)


async def test_a_lost_or_corrupt_index_is_rebuilt_and_answers_the_same(
    resources_db: AsyncDatabase[Doc], replicas: tuple[Replica, Replica]
) -> None:
    a, b = replicas
    assert b.folder is not None
    home, w, made = await seeded(a.client, resources_db, "replicas-lost")
    expected = set(made.values())
    await both_find(replicas, home.member, w, expected)

    # The folder deleted while the replica is down (a new pod, a wiped disk).
    b.stop()
    shutil.rmtree(b.folder)
    later = await create_note(a.client, home.owner, home.id, title=f"Later {w}", text="Made while b had no index.")
    expected.add(later["id"])
    b.start()
    await until_found(b, home.member, w, expected)
    await same_answers(replicas, home.member, w)

    # Tantivy's files overwritten with junk; the state file beside them still says all is well.
    b.stop()
    junked = [p for p in b.folder.iterdir() if p.is_file() and p.name != "weft-search.json"]
    assert junked, "an index has files to corrupt"
    for path in junked:
        path.write_bytes(JUNK)
    b.start()
    await until_found(b, home.member, w, expected)
    assert not [p for p in b.folder.iterdir() if p.is_file() and p.read_bytes() == JUNK], "wiped and rebuilt"
    await same_answers(replicas, home.member, w)
