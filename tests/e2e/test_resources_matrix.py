"""The resources authorization matrix (issue 9, "never a result the caller may not see"):
every operation the gateway routes to the resources service x every kind of caller x
every community visibility, driven over HTTP through the real gateway and services,
with each expected status written down once, in `MATRIX` below. It follows the shape
of tests/e2e/test_authorization_matrix.py (whose own gateway has no resources service).

The callers: anonymous, an outsider (a new person for every case), a **partner** (a
member of a community linked with the case's community by an active link that shares
resources), a pending applicant, a banned member, a member, a facilitator, the owner.
Every community holds, made through the API: library items of each visibility, a
draft, a discussion, a Chatham House thread and an anonymous question with an
anonymous reply (by a member who posts nothing else: the "whisperer").

For every case it also checks that
- an allowed list shows exactly what the rule lets the caller see (`CONTENT_CHECKS`);
- a refused request (any 4xx) changed nothing: every stored document of the resources
  database that names the case's community is the same before and after;
- nothing of the hidden community leaks to a caller outside it: no answer names its id,
  its marker word (in every title it holds), one of its things or one of its members;
- the author of an anonymous post is named in no answer to anyone but the owners and
  facilitators of its community;
- a 404 for the hidden community's things is byte-identical to the 404 for ids that
  name nothing.

Before the table, `test_every_thing_reads_as_the_rule_says` reads every thing of every
community as every person of the world (their own communities' and the others') and
compares the status with the rule written independently here (`may_see`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.support.api import Person, create_community, join, new_person
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess
from weft_gateway.routes import ROUTES

ROLES = ("anonymous", "outsider", "partner", "pending", "banned", "member", "facilitator", "owner")
VISIBILITIES = ("public", "private", "hidden")
INSIDE = ("member", "facilitator", "owner")  # who may know a hidden community
STAFF = ("facilitator", "owner")


def same(statuses: str) -> tuple[str, str, str]:
    return (statuses, statuses, statuses)


# Expected status per caller, in the order of ROLES:
#            anonymous outsider partner pending banned member facilitator owner
# for a community that is (public, private, hidden). Outsiders are a new person for every case;
# the partner is a member of a community linked with all three (sharing resources).
# "The partners note" is a published note of visibility `partners`, created by the member.
MATRIX: dict[str, tuple[str, str, str]] = {
    # -- library items ----------------------------------------------------------------------------------
    "POST /v1/communities/{community_id}/resources": (  # a new note
        "401 403 403 403 403 201 201 201",
        "401 403 403 403 403 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "GET /v1/communities/{community_id}/resources": (
        "401 200 200 200 200 200 200 200",
        "401 200 200 200 200 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/resources/{resource_id}": (  # the partners note
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "PATCH /v1/resources/{resource_id}": (  # the partners note, its own title again (the member made it)
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # -- versions (of the partners note) ----------------------------------------------------------------
    "GET /v1/resources/{resource_id}/versions": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/resources/{resource_id}/versions/{number}": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "POST /v1/resources/{resource_id}/versions/{number}/restore": (  # version 1: a new version with its text
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # -- sharing a `community` note (the member's) with the partner's community: staff only ------------
    "PUT /v1/resources/{resource_id}/shares/{community_id}": (
        "401 404 404 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    # The share just made (then none: still 204); until the facilitator withdraws it, the partner sees the note.
    "DELETE /v1/resources/{resource_id}/shares/{community_id}": (
        "401 404 403 404 404 403 204 204",
        "401 404 403 404 404 403 204 204",
        "401 404 404 404 404 403 204 204",
    ),
}

# Path parameters that name something of the case's community: swapped for ids that name
# nothing when a 404 is compared with the 404 for nothing at all.
SCOPED_PARAMS = ("community_id", "resource_id", "thread_id", "reply_id", "collection_id")


# -- the world: set up once ---------------------------------------------------------------------------------


@dataclass
class Thing:
    """Something a community holds, and who may see it by the rule."""

    name: str
    id: str
    community_id: str
    path: str  # where it is read
    # community | partners | network (library items), draft, thread, chatham (threads), ...
    audience: str
    creator: str
    listed: bool = True  # in the community's library list (published items)
    moderated: bool = False  # hidden by a moderator
    shared_with: tuple[str, ...] = ()


@dataclass
class Community:
    visibility: str
    id: str
    name: str
    people: dict[str, Person]
    whisperer: Person  # a member who posts only anonymously
    things: dict[str, Thing] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)  # communities linked with it, sharing resources

    @property
    def member_ids(self) -> set[str]:
        return {self.people[r].user_id for r in INSIDE} | {self.whisperer.user_id}

    @property
    def staff_ids(self) -> set[str]:
        return {self.people[r].user_id for r in STAFF}


@dataclass
class World:
    http: httpx.AsyncClient
    mongo: AsyncMongoClient[Any]
    resources_db: str
    communities: dict[str, Community]
    partner: Person
    partner_owner: Person
    partner_community: str
    word: str  # in the title of every thing of every community (what search looks for)
    marker: str  # in the title of every thing of the hidden community
    secrets: set[str]  # what of the hidden community no one outside it may see

    def community(self, community_id: str) -> Community | None:
        return next((c for c in self.communities.values() if c.id == community_id), None)

    def members_of(self, community_id: str) -> set[str]:
        if community_id == self.partner_community:
            return {self.partner.user_id, self.partner_owner.user_id}
        found = self.community(community_id)
        return found.member_ids if found else set()

    def things(self) -> list[Thing]:
        return [t for c in self.communities.values() for t in c.things.values()]

    async def snapshot(self, community: Community) -> dict[str, list[Any]]:
        """Every stored document of the resources database that names the community (the jobs'
        own bookkeeping left out: the outbox relay and the search indexer write as they go)."""
        db = self.mongo[self.resources_db]
        names = sorted(set(await db.list_collection_names()) - UNSNAPSHOTTED)
        found: dict[str, list[Any]] = {}
        for name in names:
            found[name] = await db[name].find({"community_id": community.id}).sort("_id").to_list()
        found["membership_communities"] = await db.membership_communities.find({"_id": community.id}).to_list()
        return found


UNSNAPSHOTTED = {"outbox", "processed_messages"}


def may_see(w: World, person: Person | None, thing: Thing) -> bool:
    """The rule (services/resources/README.md, "Who sees what"), written here on its own."""
    if person is None:
        return False
    owner = w.community(thing.community_id)
    assert owner is not None
    who = person.user_id
    inside = who in owner.member_ids
    if owner.visibility == "hidden" and not inside:
        return False
    if thing.moderated and who not in owner.staff_ids:
        return False
    if thing.audience == "draft":
        return who == thing.creator or who in owner.staff_ids
    if inside:
        return True
    if any(who in w.members_of(c) for c in thing.shared_with if c in owner.linked):
        return True
    partner = any(who in w.members_of(c) for c in owner.linked)
    return thing.audience == "network" or (partner and thing.audience in ("partners", "thread"))


def in_library_of(w: World, community_id: str, thing: Thing, person: Person | None) -> bool:
    """Whether the library of `community_id` lists the item (for whoever may see it): its own
    items, the `partners` items of communities linked with it, the items shared with it. An item
    shared with a community is in that community's library, not in its own community's for
    those who see it only through the share."""
    if not thing.listed:
        return False
    if community_id in thing.shared_with:
        return True
    if thing.community_id == community_id:
        return thing.audience != "community" or (person is not None and person.user_id in w.members_of(community_id))
    linked = w.community(thing.community_id)
    return thing.audience == "partners" and linked is not None and community_id in linked.linked


async def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202, 204)), (response.request.url, response.text)
    return response.json() if response.content else None


async def _build_community(http: httpx.AsyncClient, visibility: str, label: str) -> Community:
    """Set up while public (so that people can ask to join), then given its visibility later."""
    owner = new_person(f"{visibility}-owner")
    name = f"Resources matrix {visibility} {label}"
    created = await create_community(
        http, owner, name=name, description=f"What {name} is about", join_policy="approval", visibility="public"
    )
    cid = created["id"]
    base = f"/v1/communities/{cid}"

    async def ask(person: Person) -> str:
        request_id: str = (await _ok(await join(http, cid, person), 202))["request_id"]
        return request_id

    async def admit(person: Person) -> Person:
        request_id = await ask(person)
        await _ok(await http.post(f"{base}/requests/{request_id}/approve", headers=owner.headers), 200)
        return person

    people = {"owner": owner}
    people["member"] = await admit(new_person(f"{visibility}-member"))
    people["facilitator"] = await admit(new_person(f"{visibility}-facilitator"))
    await _ok(
        await http.patch(
            f"{base}/members/{people['facilitator'].user_id}", json={"role": "facilitator"}, headers=owner.headers
        )
    )
    people["banned"] = await admit(new_person(f"{visibility}-banned"))
    await _ok(await http.delete(f"{base}/members/{people['banned'].user_id}?ban=true", headers=owner.headers), 204)
    people["pending"] = new_person(f"{visibility}-pending")
    await ask(people["pending"])
    whisperer = await admit(new_person(f"{visibility}-whisperer"))
    return Community(visibility, cid, name, people, whisperer)


async def _link(http: httpx.AsyncClient, a: str, a_owner: Person, b: str, b_owner: Person) -> None:
    proposed = await http.post(
        f"/v1/communities/{a}/links", json={"to_community_id": b, "share_resources": True}, headers=a_owner.headers
    )
    link_id = (await _ok(proposed, 201))["id"]
    await _ok(await http.post(f"/v1/communities/{b}/links/{link_id}/accept", headers=b_owner.headers), 200)


async def _posted(http: httpx.AsyncClient, path: str, person: Person, body: Any) -> dict[str, Any]:
    """A post by a member, once the resources service knows the membership (it learns it from the bus)."""

    async def attempt() -> dict[str, Any] | None:
        response = await http.post(path, json=body, headers=person.headers)
        if response.status_code in (403, 404):
            return None
        made: dict[str, Any] = await _ok(response, 201)
        return made

    result: dict[str, Any] = await eventually(attempt, timeout=30, what=f"a post to {path}")
    return result


def _title(w_word: str, c: Community, marker: str, what: str) -> str:
    return f"{what} {w_word} {marker if c.visibility == 'hidden' else c.visibility}"


async def _fill(http: httpx.AsyncClient, c: Community, word: str, marker: str) -> None:
    """The community's things, made through the API by its people."""
    member = c.people["member"]
    base = f"/v1/communities/{c.id}"

    async def note(name: str, visibility: str, *, status: str = "published") -> None:
        body = {
            "kind": "note",
            "title": _title(word, c, marker, f"Note {name}"),
            "text": f"The {name} note of {c.visibility}.",
            "visibility": visibility,
            "status": status,
        }
        made = await _posted(http, f"{base}/resources", member, body)
        audience = "draft" if status == "draft" else visibility
        c.things[name] = Thing(
            name,
            made["id"],
            c.id,
            f"/v1/resources/{made['id']}",
            audience,
            member.user_id,
            listed=status == "published",
        )

    await note("community", "community")
    await note("partners", "partners")
    await note("network", "network")
    await note("draft", "partners", status="draft")
    await note("sharable", "community")  # the sharing cases share it, then withdraw the share
    await note("shared", "community")  # shared with the partner's community (by the owner, in the world's set-up)


async def _settled(w: World) -> None:
    """Wait until the resources service's membership view holds every fact set up (roles,
    bans, links, visibilities): the probes read what each fact decides."""
    public = w.communities["public"]
    for c in w.communities.values():
        probes: list[tuple[Person, str, int]] = [
            (c.people["facilitator"], c.things["draft"].path, 200),
            (c.people["banned"], c.things["community"].path, 404),
            (w.partner, c.things["partners"].path, 404 if c.visibility == "hidden" else 200),
            (new_person("probe"), f"/v1/communities/{c.id}/resources", 404 if c.visibility == "hidden" else 200),
        ]
        if c.visibility == "hidden":  # linked with public: its members are public's partners
            probes.append((c.people["member"], public.things["partners"].path, 200))

        async def agreed(probes: list[tuple[Person, str, int]] = probes) -> bool:
            for person, path, status in probes:
                if (await w.http.get(path, headers=person.headers)).status_code != status:
                    return False
            return True

        await eventually(agreed, timeout=30, what=f"the resources service to agree about {c.visibility}")


@pytest.fixture(scope="module")
async def world(
    start_session_service: Callable[..., ServiceProcess],
    membership_service: ServiceProcess,
    events_service: ServiceProcess,
    notifications_service: ServiceProcess,
    resources_service: ServiceProcess,
    platform_env: dict[str, str],
) -> AsyncIterator[World]:
    # A gateway of its own: the matrix is many requests from a few people, more than the rate limit lets through.
    gateway = start_session_service(
        "gateway",
        env={
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url,
            "WEFT_GATEWAY_EVENTS_URL": events_service.url,
            "WEFT_GATEWAY_NOTIFICATIONS_URL": notifications_service.url,
            "WEFT_GATEWAY_RESOURCES_URL": resources_service.url,
            "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000",
            "WEFT_GATEWAY_RATE_LIMIT_BURST": "100000",
        },
    )
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as http:
        word = f"zw{secrets.token_hex(5)}"  # in every title: what the search test looks for
        marker = f"zq{secrets.token_hex(6)}"  # in the hidden community's name and every title it holds
        partner_owner, partner = new_person("partner-owner"), new_person("partner")
        partner_community = (await create_community(http, partner_owner, name=f"Partners {secrets.token_hex(3)}"))[
            "id"
        ]
        await _ok(await join(http, partner_community, partner), 200, 201)
        communities = {v: await _build_community(http, v, marker if v == "hidden" else v) for v in VISIBILITIES}
        public, hidden = communities["public"], communities["hidden"]
        for c in communities.values():  # the partner's community is linked with every one
            await _link(http, c.id, c.people["owner"], partner_community, partner_owner)
            c.linked.add(partner_community)
        await _link(http, hidden.id, hidden.people["owner"], public.id, public.people["owner"])
        hidden.linked.add(public.id)
        public.linked.add(hidden.id)
        for c in communities.values():
            if c.visibility != "public":
                await _ok(
                    await http.patch(
                        f"/v1/communities/{c.id}", json={"visibility": c.visibility}, headers=c.people["owner"].headers
                    )
                )
        for c in communities.values():
            await _fill(http, c, word, marker)
            shared = c.things["shared"]
            share = f"/v1/resources/{shared.id}/shares/{partner_community}"
            await _ok(await http.put(share, headers=c.people["owner"].headers), 200)
            shared.shared_with = (partner_community,)
        mongo: AsyncMongoClient[Any] = AsyncMongoClient(platform_env["MONGODB_URL"], tz_aware=True)
        try:
            world = World(
                http=http,
                mongo=mongo,
                resources_db=platform_env["WEFT_RESOURCES_DATABASE"],
                communities=communities,
                partner=partner,
                partner_owner=partner_owner,
                partner_community=partner_community,
                word=word,
                marker=marker,
                # Its members are in no other community: no answer may name them either.
                secrets={
                    hidden.id,
                    marker,
                    *(t.id for t in hidden.things.values()),
                    *hidden.member_ids,
                },
            )
            await _settled(world)
            for c in communities.values():  # the snapshots read the service's real database
                stored = await world.snapshot(c)
                assert stored["resources"] and stored["membership_members"], sorted(stored)
            print(f"\nresources matrix: set up in {time.monotonic() - started:.1f} s")
            yield world
        finally:
            await mongo.close()


# -- what no answer may show ------------------------------------------------------------------------------


def _leaks(w: World, caller: Person | None, text: str, *, told: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """What `text` (an answer to `caller`) names that the caller may not know."""
    found: list[str] = []
    who = caller.user_id if caller else None
    hidden = w.communities["hidden"]
    if who not in hidden.member_ids:
        leaked = sorted(s for s in w.secrets - told if s in text)
        if leaked:
            found.append(f"names the hidden community's {leaked}")
    for c in w.communities.values():
        if who not in c.staff_ids and who != c.whisperer.user_id and c.whisperer.user_id in text:
            found.append(f"names the anonymous author of {c.visibility}")
    return found


# -- one request per case --------------------------------------------------------------------------------


@dataclass
class Request:
    params: dict[str, str]
    body: Any = None
    caller: Person | None = None  # instead of the role's usual person
    wrote: bool = False  # preparing it stored something (take the "before" snapshot after it)
    query: dict[str, str] = field(default_factory=dict)


Prepare = Callable[[World, Community, Person | None, str, int], Awaitable[Request]]


def _ids(c: Community, **more: str) -> dict[str, str]:
    return {"community_id": c.id, "resource_id": c.things["partners"].id, **more}


async def _done(request: Request) -> Request:
    return request


async def _plain(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    return Request(_ids(c))


def _with_body(body: Callable[[World, Community, Person | None], Any]) -> Prepare:
    async def prepare(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
        return Request(_ids(c), body(w, c, caller))

    return prepare


def _new_note(w: World, c: Community, caller: Person | None) -> dict[str, Any]:
    # Without the search word (the search test counts what holds it); with the marker in the hidden community.
    title = f"Matrix-made {w.marker if c.visibility == 'hidden' else c.visibility}"
    return {"kind": "note", "title": title, "text": "Made by a matrix case.", "visibility": "community"}


def _share(w: World, c: Community, caller: Person | None, role: str, i: int) -> Awaitable[Request]:
    return _done(Request(_ids(c, resource_id=c.things["sharable"].id, community_id=w.partner_community)))


PREPARE: dict[str, Prepare] = {
    "GET /v1/resources/{resource_id}/versions/{number}": lambda w, c, p, r, i: _done(Request(_ids(c, number="1"))),
    "POST /v1/resources/{resource_id}/versions/{number}/restore": lambda w, c, p, r, i: _done(
        Request(_ids(c, number="1"))
    ),
    "PUT /v1/resources/{resource_id}/shares/{community_id}": _share,
    "DELETE /v1/resources/{resource_id}/shares/{community_id}": _share,
    "POST /v1/communities/{community_id}/resources": _with_body(_new_note),
    "PATCH /v1/resources/{resource_id}": _with_body(lambda w, c, p: {"title": _title(w.word, c, w.marker, "Note partners")}),
}


def _caller(w: World, c: Community, role: str) -> Person | None:
    if role == "anonymous":
        return None
    if role == "outsider":
        return new_person("outsider")
    if role == "partner":
        return w.partner
    return c.people[role]


async def _send(w: World, operation: str, request: Request, caller: Person | None) -> httpx.Response:
    method, template = operation.split(" ", 1)
    headers = caller.headers if caller else {}
    path = template.format(**request.params)
    return await w.http.request(method, path, params=request.query, json=request.body, headers=headers)


def _fake(value: str) -> str:
    """An id of the same length that names nothing."""
    return secrets.token_hex(len(value))[: len(value)]


# What an allowed answer shows depends on the caller too: (operation, check) where
# check(world, community, caller, body) says what it shows that it should not, or misses (None: right).
ContentCheck = Callable[[World, str, Person | None, Any], str | None]


def _library_as_the_rule_says(w: World, community_id: str, caller: Person | None, body: Any) -> str | None:
    listed = {item["id"] for item in body["items"]}
    ours = {t.id: t.name for t in w.things()}
    expected = {t.id for t in w.things() if in_library_of(w, community_id, t, caller) and may_see(w, caller, t)}
    wrong = sorted(ours[i] for i in (listed & set(ours)) - expected)
    missing = sorted(ours[i] for i in expected - listed)
    return f"lists {wrong}, misses {missing}" if wrong or missing else None


CONTENT_CHECKS: dict[str, ContentCheck] = {
    "GET /v1/communities/{community_id}/resources": _library_as_the_rule_says,
}


# -- the tests --------------------------------------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


async def test_the_table_has_a_row_for_every_resources_operation_of_the_gateway_document(world: World) -> None:
    """A resources route added without a row (or a row left for a route that went) fails here."""
    document = await _ok(await world.http.get("/openapi.json"), 200)
    operations = set()
    for path, item in document["paths"].items():
        route = ROUTES.match(path)
        if route is not None and route.service == "resources":
            operations |= {f"{method.upper()} {path}" for method in item if method in HTTP_METHODS}
    assert set(MATRIX) == operations, {
        "without a row": operations - set(MATRIX),
        "no such operation": set(MATRIX) - operations,
    }
    for operation, columns in MATRIX.items():
        assert len(columns) == len(VISIBILITIES) and all(len(c.split()) == len(ROLES) for c in columns), operation


def _everyone(w: World) -> list[tuple[str, Person | None]]:
    """Every person of the world (and anonymous, and an outsider), named for the failures."""
    people: list[tuple[str, Person | None]] = [
        ("anonymous", None),
        ("an outsider", new_person("outsider")),
        ("the partner", w.partner),
    ]
    for c in w.communities.values():
        people += [(f"{c.visibility}'s {role}", p) for role, p in c.people.items()]
        people.append((f"{c.visibility}'s whisperer", c.whisperer))
    return people


async def test_every_thing_reads_as_the_rule_says(world: World) -> None:
    """Each thing of each community read by each person of the world (its own community's, the
    linked ones' and the rest): 200 exactly when the rule lets them see it, else 404 (401 unsigned);
    and every library (the partner's community's too) lists exactly what the rule lets them see."""
    failures: list[str] = []
    libraries = [*(c.id for c in world.communities.values()), world.partner_community]
    for who, person in _everyone(world):
        headers = person.headers if person else {}
        for thing in world.things():
            response = await world.http.get(thing.path, headers=headers)
            expected = 200 if may_see(world, person, thing) else (404 if person else 401)
            where = f"{thing.name} of {world.community(thing.community_id).visibility} read by {who}"  # type: ignore[union-attr]
            if response.status_code != expected:
                failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:200]}")
            failures += [f"{where}: {leak}" for leak in _leaks(world, person, response.text, told={thing.id})]
        for community_id in libraries if person else []:
            response = await world.http.get(f"/v1/communities/{community_id}/resources", headers=headers)
            c = world.community(community_id)
            where = f"the library of {c.visibility if c else 'the partners'} listed for {who}"
            if response.status_code == 200:
                shown = _library_as_the_rule_says(world, community_id, person, response.json())
                failures += [f"{where}: {shown}"] if shown else []
            failures += [f"{where}: {leak}" for leak in _leaks(world, person, response.text, told={community_id})]
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures)


def _changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [name for name in before.keys() | after.keys() if before.get(name) != after.get(name)]


@pytest.mark.timeout(600)
async def test_every_operation_for_every_caller_and_visibility(world: World) -> None:
    failures: list[str] = []
    cases = 0
    started = time.monotonic()
    for operation, columns in MATRIX.items():
        prepare = PREPARE.get(operation, _plain)
        for visibility, statuses in zip(VISIBILITIES, columns, strict=True):
            community = world.communities[visibility]
            before = await world.snapshot(community)
            for index, (role, expected) in enumerate(zip(ROLES, statuses.split(), strict=True)):
                cases += 1
                where = f"{operation} [{visibility} community, {role}]"
                default_caller = _caller(world, community, role)
                request = await prepare(world, community, default_caller, role, index)
                caller = request.caller or default_caller
                if request.wrote:
                    before = await world.snapshot(community)
                response = await _send(world, operation, request, caller)
                if response.status_code != int(expected):
                    failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:300]}")
                after = await world.snapshot(community)
                if response.status_code >= 400 and _changed(before, after):
                    failures.append(f"{where}: refused ({response.status_code}) but changed {_changed(before, after)}")
                before = after
                check = CONTENT_CHECKS.get(operation)
                if check and response.status_code == 200:
                    shown = check(world, community.id, caller, response.json())
                    if shown:
                        failures.append(f"{where}: {shown}")
                # The ids the caller sent come back in `instance`: that tells them nothing.
                told = set(request.params.values())
                failures += [f"{where}: {leak}" for leak in _leaks(world, caller, response.text, told=told)]
                outside = not (visibility == "hidden" and role in INSIDE)
                if outside and visibility == "hidden" and response.status_code == 404:
                    swapped = {k: _fake(v) if k in SCOPED_PARAMS else v for k, v in request.params.items()}
                    nothing = await _send(world, operation, Request(swapped, request.body), caller)
                    seen = response.text
                    for key in SCOPED_PARAMS:
                        if key in request.params:
                            seen = seen.replace(request.params[key], swapped[key])
                    if (nothing.status_code, nothing.headers.get("content-type"), nothing.text) != (
                        404,
                        response.headers.get("content-type"),
                        seen,
                    ):
                        failures.append(
                            f"{where}: its 404 differs from one for nothing: {response.text} / {nothing.text}"
                        )
    elapsed = time.monotonic() - started
    print(
        f"\nresources matrix: {cases} cases ({len(MATRIX)} operations x {len(ROLES)} callers x "
        f"{len(VISIBILITIES)} visibilities) in {elapsed:.1f} s"
    )
    assert cases == len(MATRIX) * len(ROLES) * len(VISIBILITIES)
    assert failures == [], f"{len(failures)} of {cases} cases failed:\n" + "\n".join(failures)
