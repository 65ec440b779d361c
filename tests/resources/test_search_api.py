"""Search through the gateway, on the real servers: relevance, filters, snippets,
paging, bad input, and never a result the caller may not see.

Everything searched for is made through the API, as a client would: items (notes,
links, uploaded files), drafts, shares, links between communities, threads and
replies. The service's database is only read, to check the table of who sees what
against the service's own rule (domain/standing.py)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import reply, start_thread
from tests.resources.file_uploads import upload
from tests.resources.library import Circle, circle, create_link, create_note, link, unlink
from tests.resources.moderation import moderate
from tests.resources.sample_files import pdf
from tests.support.api import Person, new_person, problem_fields
from tests.support.waiting import eventually
from weft_resources.domain.standing import can_see_resource, can_see_thread, moderated_out
from weft_resources.storage.membership_view import MembershipView

Doc = dict[str, Any]


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


def word() -> str:
    """A word no other test uses, so tests sharing the session's index never meet."""
    return "zq" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))


def note(**fields: Any) -> dict[str, Any]:
    """A note's fields with nothing searchable but what the test gives."""
    return {"summary": "", "tags": [], "authors": [], **fields}


async def test_stemming_phrases_ranking_filters_and_snippets(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=0, label="search-rank")
    ana = home.owner
    w = word()
    body_hit = await create_note(
        web, ana, home.id, **note(title=f"Night rounds {w}", text="Residents falling at night in the care home.")
    )
    uploaded = await upload(
        web,
        ana,
        home.id,
        "toolkit.pdf",
        pdf("A toolkit for the ward"),
        fields={"title": f"Falls prevention {w}", "tags": ["audit"]},
    )
    assert uploaded.status_code == 201, uploaded.text
    title_hit = uploaded.json()
    other = await create_link(
        web, ana, home.id, title=f"Home visits {w}", summary="Take care on the stairs at home.", tags=[]
    )
    script = await create_note(
        web, ana, home.id, **note(title=f"Script {w}", text='About falls <script>alert("x")</script> & more')
    )

    await until_found(web, ana, f"{w} falls", {body_hit["id"], title_hit["id"], script["id"]})
    ranked = await found_ids(web, ana, f"{w} falls")
    assert ranked.index(title_hit["id"]) < ranked.index(body_hit["id"])  # title above body
    assert await found_ids(web, ana, f'{w} "care home"') == [body_hit["id"]]  # `other` has both words apart
    assert set(await found_ids(web, ana, f"{w} care home")) == {body_hit["id"], other["id"]}
    assert await found_ids(web, ana, f"{w} falls", kind="file") == [title_hit["id"]]
    assert await found_ids(web, ana, f"{w} falls", tag="Audit") == [title_hit["id"]]  # tags match in any case
    assert await found_ids(web, ana, f"{w} toolkit ward") == [title_hit["id"]]  # the PDF's extracted text
    assert await found_ids(web, ana, w, community_id="elsewhere") == []
    assert len(await found_ids(web, ana, w, community_id=home.id)) == 4

    hits = (await search(web, ana, f"{w} falls", kind="note")).json()["items"]
    snippets = {h["id"]: h["snippet"] for h in hits}
    assert "<mark>falling</mark>" in snippets[body_hit["id"]]
    assert "&lt;script&gt;" in snippets[script["id"]] and "<script>" not in snippets[script["id"]]
    assert "&amp;" in snippets[script["id"]]


async def test_pages_through_an_opaque_cursor(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    home = await circle(web, resources_db, members=0, label="search-pages")
    ana = home.owner
    w = word()
    made = set()
    for n in range(7):
        made.add((await create_note(web, ana, home.id, **note(title=f"{w} item {n}", text=f"{w} " * (n + 1))))["id"])
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
    first = (await search(web, ana, w, limit=3)).json()["next_cursor"]
    assert problem_fields(await search(web, ana, f"{w} other", cursor=first), 400) == {"cursor"}


async def test_bad_input_is_refused_naming_the_field(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    assert problem_fields(await search(web, ana, ""), 422) == {"q"}
    assert problem_fields(await search(web, ana, "  !! ?? "), 422) == {"q"}
    assert problem_fields(await search(web, ana, "x" * 2_000), 422) == {"q"}
    assert problem_fields(await search(web, ana, " ".join(f"w{n}" for n in range(40))), 422) == {"q"}
    assert problem_fields(await search(web, ana, "falls", kind="spreadsheet"), 422) == {"kind"}
    assert problem_fields(await search(web, ana, "falls", limit=0), 422) == {"limit"}
    assert problem_fields(await search(web, ana, "falls", community_id="\x00"), 422) == {"community_id"}
    assert problem_fields(await search(web, ana, "falls", tag="fa\x1bls"), 422) == {"tag"}
    assert problem_fields(await search(web, ana, "falls", cursor="not-a-cursor!"), 400) == {"cursor"}
    first = await search(web, ana, "falls", limit=1)
    assert first.status_code == 200
    assert (await web.get("/v1/search", params={"q": "falls"})).status_code == 401


class Cast:
    """The communities and people of the visibility table, all made through the gateway."""

    def __init__(self, home: Circle, linked: Circle, other: Circle, hidden: Circle) -> None:
        self.home, self.linked, self.other, self.hidden = home, linked, other, hidden
        self.member, self.banned = home.members
        self.callers = {
            "owner": home.owner,
            "facilitator": home.facilitator,
            "member": self.member,
            "partner": linked.member,
            "outsider": other.member,
            "banned": self.banned,
        }


async def ban(web: httpx.AsyncClient, db: AsyncDatabase[Doc], home: Circle, person: Person) -> None:
    gone = await web.delete(f"/v1/communities/{home.id}/members/{person.user_id}?ban=true", headers=home.owner.headers)
    assert gone.status_code in (200, 204), gone.text

    async def inactive() -> bool:
        held = await db.membership_members.find_one({"_id": f"{home.id}:{person.user_id}"})
        return held is not None and not held.get("active")

    await eventually(inactive, what="the ban in the resources view")


async def share(web: httpx.AsyncClient, owner: Person, resource_id: str, community_id: str) -> None:
    shared = await web.put(f"/v1/resources/{resource_id}/shares/{community_id}", headers=owner.headers)
    assert shared.status_code == 200, shared.text


async def comment(web: httpx.AsyncClient, person: Person, resource_id: str, body: str) -> Doc:
    posted = await web.post(f"/v1/resources/{resource_id}/comments", json={"body": body}, headers=person.headers)
    assert posted.status_code == 201, posted.text
    made: Doc = posted.json()
    return made


async def rule_says(db: AsyncDatabase[Doc], person: Person, names: dict[str, str], hidden_id: str) -> set[str]:
    """What domain/standing.py lets `person` see of the named things, as stored now."""
    standing = await MembershipView(db).standing(person.user_id)
    seen = set()
    for doc_id, name in names.items():
        item = await db.resources.find_one({"_id": doc_id})
        thread = await db.threads.find_one({"_id": doc_id})
        reply_doc = await db.replies.find_one({"_id": doc_id})
        if reply_doc is not None:
            thread = await db.threads.find_one({"_id": reply_doc["thread_id"]})
        assert thread is not None or item is not None, name
        if thread is not None and thread["kind"] == "comments":
            item = await db.resources.find_one({"_id": thread["resource_id"]})
            thread = None
        hidden = (item or thread or {})["community_id"] == hidden_id
        if thread is not None:
            visible = can_see_thread(thread, standing, community_hidden=hidden)
        else:
            assert item is not None
            visible = can_see_resource(item, standing, community_hidden=hidden)
        if reply_doc is not None and moderated_out(reply_doc, standing):
            visible = False  # a moderated reply: its place in the thread shows, not its text
        if visible:
            seen.add(name)
    return seen


async def test_never_a_result_the_caller_may_not_see(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    db = resources_db
    home = await circle(web, db, members=2, facilitators=1, label="s-home")
    linked = await circle(web, db, members=1, label="s-linked")
    other = await circle(web, db, members=1, label="s-other")
    hidden = await circle(web, db, members=0, visibility="hidden", label="s-hidden")
    cast = Cast(home, linked, other, hidden)
    await link(web, db, home, linked)
    other_link = await link(web, db, home, other)
    await link(web, db, hidden, linked)

    w = word()
    owner, member, banned = home.owner, cast.member, cast.banned

    async def item(community: Circle, by: Person | None = None, **fields: Any) -> str:
        made = await create_note(web, by or community.owner, community.id, **note(title=f"Item {w}", **fields))
        return str(made["id"])

    ids = {
        "community": await item(home),
        "partners": await item(home, visibility="partners"),
        "network": await item(home, visibility="network"),
        "shared": await item(home),
        "shared-unlinked": await item(home),
        "draft": await item(home, member, status="draft"),
        "banned-draft": await item(home, banned, status="draft"),
        "hidden-network": await item(hidden, visibility="network"),
        "hidden-partners": await item(hidden, visibility="partners"),
    }
    await share(web, owner, ids["shared"], linked.id)
    await share(web, owner, ids["shared-unlinked"], other.id)
    await unlink(web, db, home, other_link)  # the share stays, and lets nobody in any more
    thread = await start_thread(web, home.id, member, title=f"Thread {w}", body="Ordinary.")
    chatham = await start_thread(
        web,
        home.id,
        member,
        kind="question",
        title=f"Asked {w}",
        body="Between us.",
        chatham_house=True,
        anonymous=True,
    )
    ids["thread"], ids["chatham"] = thread["id"], chatham["id"]
    ids["thread-reply"] = (await reply(web, thread["id"], owner, body=f"Reply {w}"))["id"]
    ids["chatham-reply"] = (await reply(web, chatham["id"], owner, body=f"Reply {w}", anonymous=True))["id"]
    # Comments on an item follow the item: its comment thread (titled as the item) and the comment.
    for name in ("partners", "community"):
        posted = await comment(web, member, ids[name], f"Comment {w}")
        ids[f"{name}-comment"] = posted["id"]
        ids[f"{name}-comments"] = f"comments-{ids[name]}"
    # Moderated: staff may see these in place (the rule), search shows them to nobody.
    ids["moderated"] = await item(home, visibility="network")
    hidden_thread = await start_thread(web, home.id, member, title=f"Hidden {w}", body="Off topic.")
    ids["moderated-thread"] = hidden_thread["id"]
    ids["moderated-thread-reply"] = (await reply(web, hidden_thread["id"], owner, body=f"Reply {w}"))["id"]
    ids["moderated-reply"] = (await reply(web, thread["id"], member, body=f"Unsafe {w}"))["id"]
    for kind, name, action, reason in (
        ("resource", "moderated", "hide", None),
        ("thread", "moderated-thread", "hide", None),
        ("reply", "moderated-reply", "remove", "Unsafe advice"),
    ):
        done = await moderate(web, home.facilitator, kind, ids[name], action, reason)
        assert done.status_code == 200, done.text
    await ban(web, db, home, banned)

    names = {doc_id: name for name, doc_id in ids.items()}
    members_see = {
        "community",
        "partners",
        "network",
        "shared",
        "shared-unlinked",
        "thread",
        "chatham",
        "thread-reply",
        "chatham-reply",
        "partners-comment",
        "partners-comments",
        "community-comment",
        "community-comments",
    }
    expected = {
        "owner": members_see | {"draft", "banned-draft"},
        "facilitator": members_see | {"draft", "banned-draft"},
        "member": members_see | {"draft"},
        "partner": {"partners", "network", "shared", "thread", "thread-reply", "partners-comment", "partners-comments"},
        "outsider": {"network"},
        # Their own draft stays theirs to see (the rule: a draft's creator and staff).
        "banned": {"network", "banned-draft"},
    }
    moderated = {"moderated", "moderated-thread", "moderated-thread-reply", "moderated-reply"}
    for name, person in cast.callers.items():
        in_place = moderated if name in ("owner", "facilitator") else set()
        assert await rule_says(db, person, names, hidden.id) == expected[name] | in_place, name
    # The hidden community's own owner sees its items (and, not being linked, nothing of home's but network).
    assert await rule_says(db, hidden.owner, names, hidden.id) == {"network", "hidden-network", "hidden-partners"}
    expected["keeper"] = {"network", "hidden-network", "hidden-partners"}
    callers = {**cast.callers, "keeper": hidden.owner}

    for name, person in callers.items():
        ranked = await until_found(web, person, w, {i for i, n in names.items() if n in expected[name]}, limit=50)
        assert len(ranked) == len(set(ranked)), name
    hits = (await search(web, owner, w, limit=50)).json()["items"]
    assert member.user_id not in str(hits), "the anonymous asker is in no result, not even the owner's"

    # Changes drop out: an archived item (and its comments: they follow it; back when asked for),
    # a moderated one (back when unhidden), an unshared item, a partner who leaves.
    archived = await web.post(f"/v1/resources/{ids['community']}/archive", headers=owner.headers)
    assert archived.status_code == 200, archived.text
    removed = await web.post(
        "/v1/moderation/actions",
        json={"content": {"kind": "resource", "id": ids["network"]}, "action": "remove", "reason": "Out of date"},
        headers=owner.headers,
    )
    assert removed.status_code == 200, removed.text
    gone = {"community", "community-comment", "community-comments", "network"}
    await until_found(web, member, w, {i for i, n in names.items() if n in expected["member"] - gone}, limit=50)
    with_archived = await found_ids(web, member, w, archived="true", limit=50)
    assert {ids["community"], ids["community-comment"], ids["community-comments"]} <= set(with_archived)
    assert ids["network"] not in with_archived
    await until_found(web, cast.callers["outsider"], w, set())
    unhidden = await moderate(web, home.facilitator, "thread", ids["moderated-thread"], "unhide")
    assert unhidden.status_code == 200, unhidden.text
    back = {ids["moderated-thread"], ids["moderated-thread-reply"]}
    partner = cast.callers["partner"]
    await until_found(web, partner, w, back | {i for i, n in names.items() if n in expected["partner"] - {"network"}})

    unshared = await web.delete(f"/v1/resources/{ids['shared']}/shares/{linked.id}", headers=owner.headers)
    assert unshared.status_code == 204, unshared.text
    await until_found(
        web, partner, w, back | {i for i, n in names.items() if n in expected["partner"] - {"shared", "network"}}
    )
    leave = await web.delete(f"/v1/communities/{linked.id}/members/{partner.user_id}", headers=partner.headers)
    assert leave.status_code in (200, 204), leave.text
    await until_found(web, partner, w, set())


async def test_a_link_removed_takes_partners_items_and_threads_out(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=1, label="s-unlink")
    linked = await circle(web, resources_db, members=1, label="s-unlinked")
    link_id = await link(web, resources_db, home, linked)
    w = word()
    partners = await create_note(web, home.owner, home.id, **note(title=f"Shared {w}", visibility="partners"))
    thread = await start_thread(web, home.id, home.member, title=f"Open {w}", body="For our partners too.")
    await until_found(web, linked.member, w, {partners["id"], thread["id"]})
    await unlink(web, resources_db, home, link_id)
    await until_found(web, linked.member, w, set())
    assert set(await found_ids(web, home.member, w)) == {partners["id"], thread["id"]}


async def test_edits_and_restores_change_what_is_found(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=1, label="s-edit")
    old, new = word(), word()
    item = await create_note(web, home.owner, home.id, **note(title="Ward checklist", text=f"The {old} step."))
    thread = await start_thread(web, home.id, home.member, title="Rota", body=f"The {old} rota.")
    answer = await reply(web, thread["id"], home.owner, body=f"The {old} shift.")
    await until_found(web, home.member, old, {item["id"], thread["id"], answer["id"]})

    edited = await web.patch(
        f"/v1/resources/{item['id']}", json={"text": f"The {new} step."}, headers=home.owner.headers
    )
    assert edited.status_code == 200, edited.text
    retitled = await web.patch(
        f"/v1/threads/{thread['id']}", json={"title": f"Rota {new}"}, headers=home.member.headers
    )
    assert retitled.status_code == 200, retitled.text
    rewritten = await web.patch(f"/v1/replies/{answer['id']}", json={"body": "Done."}, headers=home.owner.headers)
    assert rewritten.status_code == 200, rewritten.text
    await until_found(web, home.member, old, {thread["id"]})  # the thread's body still says it
    await until_found(web, home.member, new, {item["id"], thread["id"]})
    hits = (await search(web, home.member, new)).json()["items"]
    assert {h["title"] for h in hits} == {"Ward checklist", f"Rota {new}"}

    restored = await web.post(f"/v1/resources/{item['id']}/versions/1/restore", headers=home.owner.headers)
    assert restored.status_code == 200, restored.text
    await until_found(web, home.member, old, {item["id"], thread["id"]})
    await until_found(web, home.member, new, {thread["id"]})


async def test_an_items_comments_follow_its_title(web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]) -> None:
    home = await circle(web, resources_db, members=1, label="s-comments")
    old, new = word(), word()
    item = await create_note(web, home.owner, home.id, **note(title=f"Mats {old}", text="Falls mats by the bed."))
    posted = await comment(web, home.member, item["id"], "We use them on nights.")
    thread_id = f"comments-{item['id']}"
    await until_found(web, home.member, old, {item["id"], thread_id})
    retitled = await web.patch(f"/v1/resources/{item['id']}", json={"title": f"Mats {new}"}, headers=home.owner.headers)
    assert retitled.status_code == 200, retitled.text
    await until_found(web, home.member, old, set())  # the comment thread is not found by the old title
    await until_found(web, home.member, new, {item["id"], thread_id})
    hits = (await search(web, home.member, "nights", community_id=home.id)).json()["items"]
    assert [(h["id"], h["title"]) for h in hits] == [(posted["id"], f"Mats {new}")]  # a comment shows the new title
