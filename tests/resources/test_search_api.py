"""Search through the gateway, on the real servers: relevance, filters, snippets,
paging, bad input, and never a result the caller may not see.

Until the library's and the discussions' own APIs land, these tests write items
and threads with the service's storage layer (the document, then `touch` of the
search feed, in one transaction through the unit of work), as their use cases will."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.support.api import Person, create_community, join, new_person, problem_fields
from tests.support.waiting import eventually
from weft_resources.domain.standing import can_see_resource, can_see_thread
from weft_resources.storage import ResourcesStorage
from weft_shared.messaging.outbox import MessageFactory, Outbox
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

Doc = dict[str, Any]


class Writer:
    """Writes searchable documents as the library's and discussions' use cases do."""

    def __init__(self, uow: UnitOfWork, storage: ResourcesStorage) -> None:
        self.uow = uow
        self.storage = storage

    async def put(self, collection: str, doc: Doc) -> Doc:
        doc_type = {"resources": "resource", "threads": "thread", "replies": "reply"}[collection]

        async def work(tx: Transaction) -> None:
            await self.storage.db[collection].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=tx.session)
            await self.storage.search_feed.touch(doc_type, doc["_id"])  # type: ignore[arg-type]

        await self.uow.run(work)
        return doc

    async def item(self, community_id: str, title: str, body: str = "", **fields: Any) -> Doc:
        doc = {
            "_id": f"r-{secrets.token_hex(6)}",
            "community_id": community_id,
            "kind": "note",
            "title": title,
            "summary": "",
            "note_markdown": body,
            "tags": [],
            "visibility": "community",
            "status": "published",
            "shared_with": [],
            "created_by": "someone",
            "moderation": {"state": "visible"},
            **fields,
        }
        return await self.put("resources", doc)


@pytest.fixture(scope="session")
async def writer(platform_env: dict[str, str]) -> AsyncIterator[Writer]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(platform_env["MONGODB_URL"], tz_aware=True)
    db = client[platform_env["WEFT_RESOURCES_DATABASE"]]
    try:
        yield Writer(
            UnitOfWork(client, Outbox(db), MessageFactory(PlatformSettings(env="dev"), "tests")), ResourcesStorage(db)
        )
    finally:
        await client.close()


async def search(web: httpx.AsyncClient, who: Person, q: str, **params: Any) -> httpx.Response:
    return await web.get("/v1/search", params={"q": q, **params}, headers=who.headers)


async def found_ids(web: httpx.AsyncClient, who: Person, q: str, **params: Any) -> list[str]:
    response = await search(web, who, q, **params)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["items"]]


async def until_found(web: httpx.AsyncClient, who: Person, q: str, expected: set[str], **params: Any) -> list[str]:
    """Poll until the results are exactly `expected` (the indexer follows the feed)."""

    async def check() -> tuple[list[str]] | None:
        ids = await found_ids(web, who, q, **params)
        return (ids,) if set(ids) == expected else None  # a tuple: an empty result is truthy too

    result: tuple[list[str]] = await eventually(check, what=f"search {q!r} to give {expected}")
    return result[0]


async def community_of(web: httpx.AsyncClient, owner: Person, *people: Person, **fields: Any) -> str:
    community_id: str = (await create_community(web, owner, join_policy="open", **fields))["id"]
    for person in people:
        assert (await join(web, community_id, person)).status_code in (200, 201)
    return community_id


def word() -> str:
    """A word no other test uses, so tests sharing the session's index never meet."""
    return "zq" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))


async def test_stemming_phrases_ranking_filters_and_snippets(web: httpx.AsyncClient, writer: Writer) -> None:
    ana = new_person("ana")
    c = await community_of(web, ana)
    w = word()
    body_hit = await writer.item(c, f"Night rounds {w}", "Residents falling at night in the care home.")
    title_hit = await writer.item(c, f"Falls prevention {w}", "A toolkit.", kind="file", tags=["Audit"])
    other = await writer.item(c, f"Home visits {w}", "Take care on the stairs at home.", kind="link")
    script = await writer.item(c, f"Script {w}", 'About falls <script>alert("x")</script> & more')

    await until_found(web, ana, f"{w} falls", {body_hit["_id"], title_hit["_id"], script["_id"]})
    ranked = await found_ids(web, ana, f"{w} falls")
    assert ranked.index(title_hit["_id"]) < ranked.index(body_hit["_id"])  # title above body
    assert await found_ids(web, ana, f'{w} "care home"') == [body_hit["_id"]]  # `other` has both words apart
    assert set(await found_ids(web, ana, f"{w} care home")) == {body_hit["_id"], other["_id"]}
    assert await found_ids(web, ana, f"{w} falls", kind="file") == [title_hit["_id"]]
    assert await found_ids(web, ana, f"{w} falls", tag="audit") == [title_hit["_id"]]
    assert await found_ids(web, ana, w, community_id="elsewhere") == []

    hits = (await search(web, ana, f"{w} falls", kind="note")).json()["items"]
    snippets = {h["id"]: h["snippet"] for h in hits}
    assert "<mark>falling</mark>" in snippets[body_hit["_id"]]
    assert "&lt;script&gt;" in snippets[script["_id"]] and "<script>" not in snippets[script["_id"]]
    assert "&amp;" in snippets[script["_id"]]


async def test_pages_through_an_opaque_cursor(web: httpx.AsyncClient, writer: Writer) -> None:
    ana = new_person("ana")
    c = await community_of(web, ana)
    w = word()
    made = {(await writer.item(c, f"{w} item {n}", f"{w} " * (n + 1)))["_id"] for n in range(7)}
    await until_found(web, ana, w, made, limit=50)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await search(web, ana, w, **params)
        assert response.status_code == 200, response.text
        seen.extend(h["id"] for h in response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


async def test_bad_input_is_refused_naming_the_field(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    assert problem_fields(await search(web, ana, ""), 422) == {"q"}
    assert problem_fields(await search(web, ana, "  !! ?? "), 422) == {"q"}
    assert problem_fields(await search(web, ana, "x" * 2_000), 422) == {"q"}
    assert problem_fields(await search(web, ana, "falls", kind="spreadsheet"), 422) == {"kind"}
    assert problem_fields(await search(web, ana, "falls", cursor="not-a-cursor!"), 400) == {"cursor"}
    first = await search(web, ana, "falls", limit=1)
    assert first.status_code == 200
    assert (await web.get("/v1/search", params={"q": "falls"})).status_code == 401


async def test_never_a_result_the_caller_may_not_see(web: httpx.AsyncClient, writer: Writer) -> None:
    owner, member, facilitator, partner, outsider, banned = (
        new_person(n) for n in ("owner", "member", "facilitator", "partner", "outsider", "banned")
    )
    home = await community_of(web, owner, member, facilitator, banned)
    linked = await community_of(web, owner, partner)
    unlinked = await community_of(web, owner, outsider)
    keeper = new_person("keeper")  # owns the hidden community: nobody else here is in it
    hidden = await community_of(web, keeper, visibility="hidden")
    for a, a_owner, b in ((home, owner, linked), (hidden, keeper, linked)):
        proposed = await web.post(
            f"/v1/communities/{a}/links", json={"to_community_id": b, "share_resources": True}, headers=a_owner.headers
        )
        assert proposed.status_code == 201, proposed.text
        accepted = await web.post(f"/v1/communities/{b}/links/{proposed.json()['id']}/accept", headers=owner.headers)
        assert accepted.status_code == 200, accepted.text
    promoted = await web.patch(
        f"/v1/communities/{home}/members/{facilitator.user_id}", json={"role": "facilitator"}, headers=owner.headers
    )
    assert promoted.status_code == 200, promoted.text
    gone = await web.delete(f"/v1/communities/{home}/members/{banned.user_id}?ban=true", headers=owner.headers)
    assert gone.status_code in (200, 204)

    w = word()
    items = {
        "community": await writer.item(home, w),
        "partners": await writer.item(home, w, visibility="partners"),
        "network": await writer.item(home, w, visibility="network"),
        "shared": await writer.item(home, w, shared_with=[linked]),
        "shared-unlinked": await writer.item(home, w, shared_with=[unlinked]),
        "draft": await writer.item(home, w, status="draft", created_by=member.user_id),
        "hidden-network": await writer.item(hidden, w, visibility="network"),
        "hidden-partners": await writer.item(hidden, w, visibility="partners"),
        "moderated": await writer.item(home, w, visibility="network", moderation={"state": "hidden"}),
    }
    thread = await writer.put(
        "threads",
        {
            "_id": f"t-{secrets.token_hex(6)}",
            "community_id": home,
            "kind": "discussion",
            "title": w,
            "body_markdown": w,
        },
    )
    chatham = await writer.put(
        "threads",
        {
            "_id": f"t-{secrets.token_hex(6)}",
            "community_id": home,
            "kind": "question",
            "title": w,
            "body_markdown": w,
            "chatham_house": True,
            "anonymous": True,
            "author_id": member.user_id,
        },
    )
    names = {doc["_id"]: name for name, doc in items.items()} | {thread["_id"]: "thread", chatham["_id"]: "chatham"}
    expected = {
        "owner": {"community", "partners", "network", "shared", "shared-unlinked", "draft", "thread", "chatham"},
        "facilitator": {"community", "partners", "network", "shared", "shared-unlinked", "draft", "thread", "chatham"},
        "member": {"community", "partners", "network", "shared", "shared-unlinked", "draft", "thread", "chatham"},
        "partner": {"partners", "network", "shared", "thread"},
        "outsider": {"network"},
        "banned": {"network"},
    }
    callers = {
        "owner": owner,
        "facilitator": facilitator,
        "member": member,
        "partner": partner,
        "outsider": outsider,
        "banned": banned,
    }
    # Wait for the view to know the roles, links and ban, and the index the items.
    await until_found(web, owner, w, {d for d, n in names.items() if n in expected["owner"]})
    await until_found(web, partner, w, {d for d, n in names.items() if n in expected["partner"]})
    await until_found(web, banned, w, {d for d, n in names.items() if n in expected["banned"]})
    for name, person in callers.items():
        seen = {names[i] for i in await found_ids(web, person, w, limit=50)}
        assert seen == expected[name], name
    # The same table from the service's own rule (domain/standing.py), with each caller's standing now.
    storage = writer.storage
    for name, person in callers.items():
        standing = await storage.membership.standing(person.user_id)
        rule = {
            n
            for d, n in names.items()
            if (
                can_see_thread(doc, standing, community_hidden=False)
                if (doc := ({**thread} if n == "thread" else {**chatham} if n == "chatham" else None))
                else can_see_resource(items[n], standing, community_hidden=items[n]["community_id"] == hidden)
            )
            and n != "moderated"  # a moderator's staff may see it in place; search never shows it
        }
        assert rule == expected[name], name

    # Changes drop out: hidden by a moderator, archived (back when asked for), the link removed.
    await writer.put("resources", {**items["network"], "moderation": {"state": "removed"}})
    await writer.put("resources", {**items["community"], "status": "archived"})
    left = {d for d, n in names.items() if n in expected["member"] - {"network", "community"}}
    await until_found(web, member, w, left)
    assert items["community"]["_id"] in await found_ids(web, member, w, archived="true", limit=50)
    leave = await web.delete(f"/v1/communities/{linked}/members/{partner.user_id}", headers=partner.headers)
    assert leave.status_code in (200, 204), leave.text
    await until_found(web, partner, w, set())
