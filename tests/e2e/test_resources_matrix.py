"""The resources authorization matrix (issue 9, "never a result the caller may not see"):
every operation the gateway routes to the resources service x every kind of caller x
every community visibility, driven over HTTP through the real gateway and services,
with each expected status written down once, in `MATRIX` below. It follows the shape
of tests/e2e/test_authorization_matrix.py (whose own gateway has no resources service).

The callers: anonymous, an outsider (a new person for every case), a **partner** (a
member of a community linked with the case's community by an active link that shares
resources), a pending applicant, a banned member, a member, a facilitator, the owner.
Every community holds, made through the API: notes of each visibility, a draft, a note
shared with the partner's community, a file, an archived note, a collection, a
discussion, a Chatham House thread, an anonymous question with an anonymous reply (by a
member who posts nothing else: the "whisperer"), a comment on an item, and a reply and a
note a moderator hid.

For every case it also checks that
- an allowed list shows exactly what the rule lets the caller see (`CONTENT_CHECKS`);
- a refused request (any 4xx) that could have written (any method but GET, and the GET
  that opens a comment thread) changed nothing: every stored document of the resources
  database about the case's community (naming it, or one of its things) is the same
  before and after;
- nothing of the hidden community leaks to a caller outside it: no answer names its id,
  its marker word (in every title it holds), one of its things or one of its members;
- the author of an anonymous post is named in no answer to anyone but the owners and
  facilitators of its community;
- a 404 to someone outside the community (for its hidden things, or for the whole
  hidden community) is byte-identical to the 404 for ids that name nothing.

Before the table, `test_every_thing_reads_as_the_rule_says` reads every thing of every
community (and every list) as the people of the world (their own communities' and the
others') and compares what they get with the rule written independently here
(`may_see`); `test_search_finds_exactly_what_each_person_may_see` searches for a word in
every title as each of them and compares the results with the same rule.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
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
    # -- files: "the file" is a small text file of visibility `partners`, uploaded by the member --------
    "POST /v1/communities/{community_id}/resources/files": (
        "401 403 403 403 403 201 201 201",
        "401 403 403 403 403 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "POST /v1/resources/{resource_id}/file": (  # a new version of the file
        "401 404 403 404 404 201 201 201",
        "401 404 403 404 404 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "GET /v1/resources/{resource_id}/file": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/resources/{resource_id}/versions/{number}/file": (  # version 1
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # -- curation (of the partners note unless said) ----------------------------------------------------
    "GET /v1/resources/{resource_id}/curation": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "POST /v1/resources/{resource_id}/publish": (  # published already: changes nothing
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "POST /v1/resources/{resource_id}/archive": (  # the archived note (of visibility `partners`) again
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "PUT /v1/resources/{resource_id}/review-by": (
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "DELETE /v1/resources/{resource_id}/review-by": (
        "401 404 403 404 404 403 204 204",
        "401 404 403 404 404 403 204 204",
        "401 404 404 404 404 403 204 204",
    ),
    "PUT /v1/resources/{resource_id}/endorsement": (
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "DELETE /v1/resources/{resource_id}/endorsement": (
        "401 404 403 404 404 403 204 204",
        "401 404 403 404 404 403 204 204",
        "401 404 404 404 404 403 204 204",
    ),
    # Anyone who may see the item marks it (the service's README), a partner too: not only members.
    "PUT /v1/resources/{resource_id}/useful": (
        "401 404 201 404 404 201 201 201",
        "401 404 201 404 404 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "DELETE /v1/resources/{resource_id}/useful": (
        "401 404 204 404 404 204 204 204",
        "401 404 204 404 404 204 204 204",
        "401 404 404 404 404 204 204 204",
    ),
    "GET /v1/communities/{community_id}/resources/review-due": (
        "401 403 403 403 403 403 200 200",
        "401 403 403 403 403 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "GET /v1/communities/{community_id}/resources/recommended": (
        "401 200 200 200 200 200 200 200",
        "401 200 200 200 200 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # -- collections: "the collection" (the owner's) holds the community's published notes and file ----
    "POST /v1/communities/{community_id}/collections": (
        "401 403 403 403 403 403 201 201",
        "401 403 403 403 403 403 201 201",
        "401 404 404 404 404 403 201 201",
    ),
    "GET /v1/communities/{community_id}/collections": (
        "401 200 200 200 200 200 200 200",
        "401 200 200 200 200 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/collections/{collection_id}": (  # with the items the caller may see
        "401 200 200 200 200 200 200 200",
        "401 200 200 200 200 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "PATCH /v1/collections/{collection_id}": (  # its own title again
        "401 403 403 403 403 403 200 200",
        "401 403 403 403 403 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "PUT /v1/collections/{collection_id}/items": (  # the same items again
        "401 403 403 403 403 403 200 200",
        "401 403 403 403 403 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "DELETE /v1/collections/{collection_id}": (  # a spare collection, made for the case
        "401 403 403 403 403 403 204 204",
        "401 403 403 403 403 403 204 204",
        "401 404 404 404 404 403 204 204",
    ),
    # -- discussions: "the discussion" is the member's, in which the member replied ("the reply") ------
    "POST /v1/communities/{community_id}/threads": (
        "401 403 403 403 403 201 201 201",
        "401 403 403 403 403 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "GET /v1/communities/{community_id}/threads": (
        "401 403 200 403 403 200 200 200",
        "401 403 200 403 403 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/threads/{thread_id}": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # Its own title again: its author only. Someone banned no longer sees the thread (404, as for any id).
    "PATCH /v1/threads/{thread_id}": (
        "401 404 403 404 404 200 403 403",
        "401 404 403 404 404 200 403 403",
        "401 404 404 404 404 200 403 403",
    ),
    "GET /v1/threads/{thread_id}/history": (  # its author and the moderators
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/threads/{thread_id}/author": (  # of the anonymous question: the moderators only
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "PUT /v1/threads/{thread_id}/accepted-answer": (  # the anonymous question's answer: its asker or a moderator
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "DELETE /v1/threads/{thread_id}/accepted-answer": (
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "PUT /v1/threads/{thread_id}/reactions/{emoji}": (  # a partner reads, does not post
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "DELETE /v1/threads/{thread_id}/reactions/{emoji}": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "PUT /v1/threads/{thread_id}/follow": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "DELETE /v1/threads/{thread_id}/follow": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/resources/{resource_id}/comments": (  # the partners note's
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # Someone banned may not see the item: 404, as for an id that names nothing.
    "POST /v1/resources/{resource_id}/comments": (
        "401 404 403 404 404 201 201 201",
        "401 404 403 404 404 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "POST /v1/threads/{thread_id}/replies": (
        "401 404 403 404 404 201 201 201",
        "401 404 403 404 404 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "GET /v1/threads/{thread_id}/replies": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/replies/{reply_id}": (
        "401 404 200 404 404 200 200 200",
        "401 404 200 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "PATCH /v1/replies/{reply_id}": (  # its own text again: its author only
        "401 404 403 404 404 200 403 403",
        "401 404 403 404 404 200 403 403",
        "401 404 404 404 404 200 403 403",
    ),
    "GET /v1/replies/{reply_id}/history": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "GET /v1/replies/{reply_id}/author": (  # of the anonymous reply: the moderators only
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "PUT /v1/replies/{reply_id}/reactions/{emoji}": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    "DELETE /v1/replies/{reply_id}/reactions/{emoji}": (
        "401 404 403 404 404 200 200 200",
        "401 404 403 404 404 200 200 200",
        "401 404 404 404 404 200 200 200",
    ),
    # -- moderation ------------------------------------------------------------------------------------
    # The discussion: its community's members and partners may report it; someone banned no longer sees it.
    "POST /v1/reports": (
        "401 404 201 404 404 201 201 201",
        "401 404 201 404 404 201 201 201",
        "401 404 404 404 404 201 201 201",
    ),
    "POST /v1/moderation/actions": (  # lock a thread the member started for the case
        "401 404 403 404 404 403 200 200",
        "401 404 403 404 404 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "GET /v1/communities/{community_id}/moderation/queue": (
        "401 403 403 403 403 403 200 200",
        "401 403 403 403 403 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    "GET /v1/communities/{community_id}/moderation/log": (
        "401 403 403 403 403 403 200 200",
        "401 403 403 403 403 403 200 200",
        "401 404 404 404 404 403 200 200",
    ),
    # -- search: the word in every title, within the case's community --------------------------------
    "GET /v1/search": same("401 200 200 200 200 200 200 200"),
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

# Reads that may write: a library item's comment thread is made by its first reading.
WRITING_READS = {"GET /v1/resources/{resource_id}/comments"}
# Operations whose every case is prepared by storing something in the case's community first.
WRITING_PREPARES = {"POST /v1/moderation/actions", "DELETE /v1/collections/{collection_id}"}

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
    sort: str = "item"  # item | thread | reply
    listed: bool = True  # in its community's list (library: published items; threads: not comments)
    thread_id: str = ""  # a reply's
    archived: bool = False  # an archived item (search leaves it out unless asked)
    moderated: bool = False  # hidden by a moderator
    shared_with: tuple[str, ...] = ()


@dataclass
class Community:
    visibility: str
    id: str
    name: str
    people: dict[str, Person]
    whisperer: Person  # a member who posts only anonymously
    collected: list[str] = field(default_factory=list)  # the ids in its collection, in order
    things: dict[str, Thing] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)  # communities linked with it, sharing resources

    def thing_by_id(self, thing_id: str) -> Thing:
        return next(t for t in self.things.values() if t.id == thing_id)

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
    keys: dict[str, str] = field(default_factory=dict)  # per collection: what its documents are found by
    snapshot_seconds: float = 0.0

    def community(self, community_id: str) -> Community | None:
        return next((c for c in self.communities.values() if c.id == community_id), None)

    def members_of(self, community_id: str) -> set[str]:
        if community_id == self.partner_community:
            return {self.partner.user_id, self.partner_owner.user_id}
        found = self.community(community_id)
        return found.member_ids if found else set()

    def describe(self, thing: Thing) -> str:
        owner = self.community(thing.community_id)
        return f"{thing.name} of {owner.visibility if owner else 'the partners'}"

    def things(self, sort: str = "") -> list[Thing]:
        return [t for c in self.communities.values() for t in c.things.values() if sort in ("", t.sort)]

    async def snapshot(self, community: Community) -> dict[str, list[Any]]:
        """Every stored document of the resources database about the community: those that name
        it, and those that name one of its items, threads or replies (reactions, follows, edits).
        The jobs' own bookkeeping is left out: the outbox relay and the search indexer write as they go."""
        started = time.monotonic()
        db = self.mongo[self.resources_db]
        names = sorted(set(await db.list_collection_names()) - UNSNAPSHOTTED)
        for name in [n for n in names if n not in self.keys]:
            sample = await db[name].find_one({})
            if sample is not None:  # an empty one is read once it holds something (the snapshot after a first write)
                keys = [k for k in ("community_id", *ABOUT_KEYS) if k in sample]
                self.keys[name] = keys[0] if keys else ""
        by_community = [n for n in names if self.keys.get(n) == "community_id"]
        by_thing = [n for n in names if self.keys.get(n) in ABOUT_KEYS]

        async def read(name: str, query: dict[str, Any]) -> list[Any]:
            return await db[name].find(query).sort("_id").to_list()

        read_first = [read(n, {"community_id": community.id}) for n in by_community]
        found = dict(zip(by_community, await asyncio.gather(*read_first), strict=True))
        ids = sorted({d["_id"] for name in ("resources", "threads", "replies") for d in found.get(name, [])})
        read_then = [read(n, {self.keys[n]: {"$in": ids}}) for n in by_thing]
        found |= dict(zip(by_thing, await asyncio.gather(*read_then), strict=True))
        found["membership_communities"] = await db.membership_communities.find({"_id": community.id}).to_list()
        self.snapshot_seconds += time.monotonic() - started
        return found


UNSNAPSHOTTED = {"outbox", "processed_messages"}
# What a document that does not name its community names instead (reactions, follows, edits, search feed).
ABOUT_KEYS = ("post_id", "thread_id", "resource_id", "ref_id")


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
    if thing.sort == "collection":  # whoever may know the community reads its collections
        return True
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
    if thing.sort != "item" or not thing.listed:
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


def _upload_parts(title: str, text: str) -> dict[str, Any]:
    metadata = {"title": title, "visibility": "partners", "licence": "CC-BY-4.0"}
    return {
        "metadata": (None, json.dumps(metadata), "application/json"),
        "file": ("matrix notes.txt", f"{text}\n".encode(), "text/plain"),
    }


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

    # A small text file (its text has the word too: search reads the extracted text).
    title = _title(word, c, marker, "File partners")
    parts = _upload_parts(title, f"A small text file {word} {marker if c.visibility == 'hidden' else ''}")

    async def upload() -> dict[str, Any] | None:
        response = await http.post(f"{base}/resources/files", files=parts, headers=member.headers)
        made: dict[str, Any] | None = None if response.status_code in (403, 404) else await _ok(response, 201)
        return made

    made = await eventually(upload, timeout=30, what="an upload")
    path = f"/v1/resources/{made['id']}"
    c.things["file"] = Thing("file", made["id"], c.id, path, "partners", member.user_id)

    # Curation: an archived note, and the owner's collection of the published items.
    await note("archived", "partners")
    archived = c.things["archived"]
    await _ok(await http.post(f"/v1/resources/{archived.id}/archive", headers=member.headers), 200)
    archived.archived, archived.listed = True, False
    owner = c.people["owner"]
    body = {"title": _title(word, c, marker, "Collection"), "description": "What to read first."}
    collection = await _ok(await http.post(f"{base}/collections", json=body, headers=owner.headers), 201)
    path = f"/v1/collections/{collection['id']}"
    c.things["collection"] = Thing(
        "collection", collection["id"], c.id, path, "collection", owner.user_id, sort="collection"
    )
    c.collected = [c.things[n].id for n in ("community", "partners", "network", "shared", "file") if n in c.things]
    items = {"resource_ids": c.collected}
    await _ok(await http.put(f"{path}/items", json=items, headers=owner.headers), 200)

    # Discussions: a thread, a Chatham House one, an anonymous question with an anonymous answer.
    async def thread(name: str, author: Person, audience: str, **fields: Any) -> None:
        body = {"kind": "discussion", "title": _title(word, c, marker, f"Thread {name}"), "body": f"About {name}."}
        made = await _posted(http, f"{base}/threads", author, body | fields)
        path = f"/v1/threads/{made['id']}"
        c.things[name] = Thing(name, made["id"], c.id, path, audience, author.user_id, sort="thread")

    async def reply(name: str, in_thread: str, author: Person, **fields: Any) -> None:
        replied = c.things[in_thread]
        body = {"body": f"The {name}, {_title(word, c, marker, 'in reply')}."}
        made = await _posted(http, f"/v1/threads/{replied.id}/replies", author, body | fields)
        path = f"/v1/replies/{made['id']}"
        c.things[name] = Thing(
            name, made["id"], c.id, path, replied.audience, author.user_id, sort="reply", thread_id=replied.id
        )

    await thread("discussion", member, "thread")
    await thread("chatham", member, "chatham", chatham_house=True)
    await thread("question", c.whisperer, "thread", kind="question", anonymous=True)
    await reply("reply", "discussion", member)
    await reply("chatham reply", "chatham", member)
    await reply("anonymous reply", "question", c.whisperer, anonymous=True)
    # The partners note's comment thread (made by its first reading) and a comment in it.
    partners_note = c.things["partners"].id
    comments = await _ok(await http.get(f"/v1/resources/{partners_note}/comments", headers=member.headers), 200)
    c.things["comments"] = Thing(
        "comments", comments["id"], c.id, f"/v1/threads/{comments['id']}", "partners", member.user_id,
        sort="thread", listed=False,
    )  # fmt: skip
    await reply("comment", "comments", member)
    # Moderation: a reply and a note hidden by the owner, and a report in the queue.
    await reply("hidden reply", "discussion", member)
    await note("hidden note", "partners")
    for name, kind in (("hidden reply", "reply"), ("hidden note", "resource")):
        action = {"content": {"kind": kind, "id": c.things[name].id}, "action": "hide"}
        await _ok(await http.post("/v1/moderation/actions", json=action, headers=c.people["owner"].headers), 200)
        c.things[name].moderated = True
    report = {"content": {"kind": "thread", "id": c.things["chatham"].id}, "reason": "other", "details": "Matrix."}
    await _ok(await http.post("/v1/reports", json=report, headers=member.headers), 201)


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
        partner_community = (await create_community(http, partner_owner, name=f"Partners {secrets.token_hex(3)}"))["id"]
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


def _leaks(w: World, caller: Person | None, text: str, *, told: Collection[str] = ()) -> list[str]:
    """What `text` (an answer to `caller`) names that the caller may not know."""
    found: list[str] = []
    who = caller.user_id if caller else None
    hidden = w.communities["hidden"]
    if who not in hidden.member_ids:
        leaked = sorted(s for s in w.secrets.difference(told) if s in text)
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
    query: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] | None = None  # a multipart upload instead of a JSON body


Prepare = Callable[[World, Community, Person | None, str, int], Awaitable[Request]]


def _ids(c: Community, **more: str) -> dict[str, str]:
    things = c.things
    return {
        "community_id": c.id,
        "resource_id": things["partners"].id,
        "thread_id": things["discussion"].id,
        "reply_id": things["reply"].id,
        "emoji": "thumbs_up",
        "collection_id": things["collection"].id,
        **more,
    }


def _of(name: str, key: str, body: Callable[[Community], Any] | None = None) -> Prepare:
    """The case's community's thing `name` as the path parameter `key` (and a body made from the community)."""

    async def prepare(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
        return Request(_ids(c, **{key: c.things[name].id}), body(c) if body else None)

    return prepare


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


async def _thread_to_lock(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    member = c.people["member"]
    body = {"kind": "discussion", "title": _new_note(w, c, caller)["title"], "body": "To lock."}
    made = await _ok(await w.http.post(f"/v1/communities/{c.id}/threads", json=body, headers=member.headers), 201)
    action = {"content": {"kind": "thread", "id": made["id"]}, "action": "lock"}
    return Request(_ids(c, thread_id=made["id"]), action)


async def _new_file(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    return Request(_ids(c), files=_upload_parts(_new_note(w, c, caller)["title"], "Uploaded by a matrix case."))


async def _new_version(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    parts = {"file": ("matrix notes.txt", b"A new version, by a matrix case.\n", "text/plain")}
    return Request(_ids(c, resource_id=c.things["file"].id), files=parts)


async def _spare_collection(w: World, c: Community, caller: Person | None, role: str, i: int) -> Request:
    body = {"title": _new_note(w, c, caller)["title"]}
    owner = c.people["owner"]
    made = await _ok(await w.http.post(f"/v1/communities/{c.id}/collections", json=body, headers=owner.headers), 201)
    return Request(_ids(c, collection_id=made["id"]))


PREPARE: dict[str, Prepare] = {
    "POST /v1/communities/{community_id}/resources/files": _new_file,
    "POST /v1/resources/{resource_id}/file": _new_version,
    "GET /v1/resources/{resource_id}/file": _of("file", "resource_id"),
    "GET /v1/resources/{resource_id}/versions/{number}/file": lambda w, c, p, r, i: _done(
        Request(_ids(c, resource_id=c.things["file"].id, number="1"))
    ),
    "POST /v1/resources/{resource_id}/archive": _of("archived", "resource_id"),
    "PUT /v1/resources/{resource_id}/review-by": _with_body(lambda w, c, p: {"review_by": "2031-01-01T00:00:00Z"}),
    "POST /v1/communities/{community_id}/collections": _with_body(
        lambda w, c, p: {"title": _new_note(w, c, p)["title"]}
    ),
    "PATCH /v1/collections/{collection_id}": _with_body(
        lambda w, c, p: {"title": _title(w.word, c, w.marker, "Collection")}
    ),
    "PUT /v1/collections/{collection_id}/items": _with_body(lambda w, c, p: {"resource_ids": c.collected}),
    "DELETE /v1/collections/{collection_id}": _spare_collection,
    "GET /v1/search": lambda w, c, p, r, i: _done(
        Request(_ids(c), query={"q": w.word, "community_id": c.id, "limit": "50"})
    ),
    "POST /v1/reports": lambda w, c, p, r, i: _done(
        Request(_ids(c), {"content": {"kind": "thread", "id": c.things["discussion"].id}, "reason": "off_topic"})
    ),
    "POST /v1/moderation/actions": _thread_to_lock,
    "GET /v1/resources/{resource_id}/versions/{number}": lambda w, c, p, r, i: _done(Request(_ids(c, number="1"))),
    "POST /v1/resources/{resource_id}/versions/{number}/restore": lambda w, c, p, r, i: _done(
        Request(_ids(c, number="1"))
    ),
    "PUT /v1/resources/{resource_id}/shares/{community_id}": _share,
    "POST /v1/communities/{community_id}/threads": _with_body(
        lambda w, c, p: {"kind": "discussion", "title": _new_note(w, c, p)["title"], "body": "A matrix case's."}
    ),
    "PATCH /v1/threads/{thread_id}": _with_body(
        lambda w, c, p: {"title": _title(w.word, c, w.marker, "Thread discussion")}
    ),
    "GET /v1/threads/{thread_id}/author": _of("question", "thread_id"),
    "PUT /v1/threads/{thread_id}/accepted-answer": _of(
        "question", "thread_id", lambda c: {"reply_id": c.things["anonymous reply"].id}
    ),
    "DELETE /v1/threads/{thread_id}/accepted-answer": _of("question", "thread_id"),
    "POST /v1/resources/{resource_id}/comments": _with_body(lambda w, c, p: {"body": "A matrix case's comment."}),
    "POST /v1/threads/{thread_id}/replies": _with_body(lambda w, c, p: {"body": "A matrix case's reply."}),
    "PATCH /v1/replies/{reply_id}": lambda w, c, p, r, i: _done(
        Request(_ids(c), {"body": f"The reply, {_title(w.word, c, w.marker, 'in reply')}."})
    ),
    "GET /v1/replies/{reply_id}/author": _of("anonymous reply", "reply_id"),
    "DELETE /v1/resources/{resource_id}/shares/{community_id}": _share,
    "POST /v1/communities/{community_id}/resources": _with_body(_new_note),
    "PATCH /v1/resources/{resource_id}": _with_body(
        lambda w, c, p: {"title": _title(w.word, c, w.marker, "Note partners")}
    ),
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
    if request.files is not None:
        return await w.http.request(method, path, params=request.query, files=request.files, headers=headers)
    return await w.http.request(method, path, params=request.query, json=request.body, headers=headers)


def _fake(value: str) -> str:
    """An id of the same length that names nothing."""
    return secrets.token_hex(len(value))[: len(value)]


# What an allowed answer shows depends on the caller too: (operation, check) where
# check(world, community, caller, body) says what it shows that it should not, or misses (None: right).
ContentCheck = Callable[[World, dict[str, str], Person | None, Any], str | None]


def _library_as_the_rule_says(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    community_id = params["community_id"]
    listed = {item["id"] for item in body["items"]}
    ours = {t.id: t.name for t in w.things()}
    expected = {t.id for t in w.things() if in_library_of(w, community_id, t, caller) and may_see(w, caller, t)}
    wrong = sorted(ours[i] for i in (listed & set(ours)) - expected)
    missing = sorted(ours[i] for i in expected - listed)
    return f"lists {wrong}, misses {missing}" if wrong or missing else None


def _threads_as_the_rule_says(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    community_id = params["community_id"]
    listed = {item["id"] for item in body["items"]}
    ours = {t.id: t.name for t in w.things("thread")}
    expected = {
        t.id for t in w.things("thread") if t.community_id == community_id and t.listed and may_see(w, caller, t)
    }
    wrong = sorted(ours[i] for i in (listed & set(ours)) - expected)
    missing = sorted(ours[i] for i in expected - listed)
    return f"lists threads {wrong}, misses {missing}" if wrong or missing else None


def _replies_as_the_rule_says(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    """Every reply the caller may see; one they may not (hidden by a moderator) keeps its place
    with no words and no author."""
    thread_id = params["thread_id"]
    ours = {t.id: t for t in w.things("reply") if t.thread_id == thread_id}
    listed = {item["id"]: item for item in body["items"]}
    missing = sorted(t.name for i, t in ours.items() if may_see(w, caller, t) and i not in listed)
    shown = sorted(
        t.name
        for i, t in ours.items()
        if i in listed and not may_see(w, caller, t) and (listed[i]["body_markdown"] or listed[i]["author_id"])
    )
    return f"shows replies {shown}, misses {missing}" if shown or missing else None


def searchable(thing: Thing) -> bool:
    """What a search for the word finds (of what the caller may see): everything but archived
    items and what a moderator hid (for the moderators too), and collections, which search
    does not cover."""
    return not (thing.archived or thing.moderated or thing.sort == "collection")


def _search_as_the_rule_says(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    community_id = params["community_id"]
    found = {item["id"] for item in body["items"]}
    ours = {t.id: t for t in w.things() if t.community_id == community_id}
    expected = {i for i, t in ours.items() if searchable(t) and may_see(w, caller, t)}
    wrong = sorted(ours[i].name for i in (found & set(ours)) - expected)
    missing = sorted(ours[i].name for i in expected - found)
    more = " (and more than a page)" if body["next_cursor"] else ""
    return f"finds {wrong}, misses {missing}{more}" if wrong or missing or more else None


def _collection_as_the_rule_says(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    """The collection's items in their order, without those the caller may not see."""
    owner = next(c for c in w.communities.values() if c.things["collection"].id == params["collection_id"])
    names = {t.id: t.name for t in w.things("item")}
    shown = [item["id"] for item in body["items"]]
    expected = [i for i, t in ((i, owner.thing_by_id(i)) for i in owner.collected) if may_see(w, caller, t)]
    if shown == expected:
        return None
    return f"shows {[names.get(i, i) for i in shown]}, not {[names[i] for i in expected]}"


def _only_what_they_may_see(w: World, params: dict[str, str], caller: Person | None, body: Any) -> str | None:
    ours = {t.id: t for t in w.things("item")}
    wrong = sorted(
        ours[i["id"]].name for i in body["items"] if i["id"] in ours and not may_see(w, caller, ours[i["id"]])
    )
    return f"lists {wrong}" if wrong else None


CONTENT_CHECKS: dict[str, ContentCheck] = {
    "GET /v1/collections/{collection_id}": _collection_as_the_rule_says,
    "GET /v1/communities/{community_id}/resources/recommended": _only_what_they_may_see,
    "GET /v1/communities/{community_id}/resources/review-due": _only_what_they_may_see,
    "GET /v1/search": _search_as_the_rule_says,
    "GET /v1/communities/{community_id}/resources": _library_as_the_rule_says,
    "GET /v1/communities/{community_id}/threads": _threads_as_the_rule_says,
    "GET /v1/threads/{thread_id}/replies": _replies_as_the_rule_says,
}


# -- the tests --------------------------------------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


async def _resources_operations(http: httpx.AsyncClient) -> set[str]:
    """The operations of the gateway's document whose paths the gateway routes to resources."""
    document = await _ok(await http.get("/openapi.json"), 200)
    operations = set()
    for path, item in document["paths"].items():
        route = ROUTES.match(path)
        if route is not None and route.service == "resources":
            operations |= {f"{method.upper()} {path}" for method in item if method in HTTP_METHODS}
    return operations


async def test_the_table_has_a_row_for_every_resources_operation_of_the_gateway_document(world: World) -> None:
    """A resources route added without a row (or a row left for a route that went) fails here."""
    operations = await _resources_operations(world.http)
    assert set(MATRIX) == operations, {
        "without a row": operations - set(MATRIX),
        "no such operation": set(MATRIX) - operations,
    }
    for operation, columns in MATRIX.items():
        assert len(columns) == len(VISIBILITIES) and all(len(c.split()) == len(ROLES) for c in columns), operation


def _everyone(w: World, *, all_of_them: bool = True) -> list[tuple[str, Person | None]]:
    """Every person of the world (and anonymous, and an outsider), named for the failures;
    or (not `all_of_them`) without the pending and the whisperers, who read as an outsider
    and a member do."""
    people: list[tuple[str, Person | None]] = [
        ("anonymous", None),
        ("an outsider", new_person("outsider")),
        ("the partner", w.partner),
    ]
    for c in w.communities.values():
        people += [(f"{c.visibility}'s {r}", p) for r, p in c.people.items() if all_of_them or r != "pending"]
        people += [(f"{c.visibility}'s whisperer", c.whisperer)] if all_of_them else []
    return people


async def test_every_thing_reads_as_the_rule_says(world: World) -> None:
    """Each thing of each community read by each person of the world (its own community's, the
    linked ones' and the rest): 200 exactly when the rule lets them see it, else 404 (401 unsigned);
    and every library (the partner's community's too) lists exactly what the rule lets them see."""
    failures: list[str] = []
    lists: list[tuple[str, dict[str, str], ContentCheck]] = []
    for community_id in [*(c.id for c in world.communities.values()), world.partner_community]:
        lists.append(
            (f"/v1/communities/{community_id}/resources", {"community_id": community_id}, _library_as_the_rule_says)
        )
    for c in world.communities.values():
        lists.append((f"/v1/communities/{c.id}/threads", {"community_id": c.id}, _threads_as_the_rule_says))
    for t in world.things("thread"):
        lists.append((f"/v1/threads/{t.id}/replies", {"thread_id": t.id}, _replies_as_the_rule_says))
    for t in world.things("collection"):
        lists.append((t.path, {"collection_id": t.id}, _collection_as_the_rule_says))
    reads = 0
    for who, person in _everyone(world, all_of_them=False):
        headers = person.headers if person else {}
        things = world.things()
        listed = lists if person else []
        # One person's reads side by side (the answers do not depend on each other).
        paths = [t.path for t in things] + [path for path, _, _ in listed]
        answers = await asyncio.gather(*(world.http.get(path, headers=headers) for path in paths))
        reads += len(answers)
        for thing, response in zip(things, answers, strict=False):
            expected = 200 if may_see(world, person, thing) else (404 if person else 401)
            where = f"{world.describe(thing)} read by {who}"
            if response.status_code != expected:
                failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:200]}")
            told = {s for s in world.secrets if s in thing.path}  # the ids they sent come back in `instance`
            failures += [f"{where}: {leak}" for leak in _leaks(world, person, response.text, told=told)]
        for (path, params, check), response in zip(listed, answers[len(things) :], strict=True):
            where = f"{path} listed for {who}"
            if response.status_code == 200:
                shown = check(world, params, person, response.json())
                failures += [f"{where}: {shown}"] if shown else []
            told = {s for s in world.secrets if s in path}
            failures += [f"{where}: {leak}" for leak in _leaks(world, person, response.text, told=told)]
    print(f"\nresources matrix: {reads} reads of {len(world.things())} things and {len(lists)} lists checked")
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures)


async def _search_everything(w: World, person: Person) -> tuple[set[str], str]:
    """Every page of a search for the word, as `person`: the ids found, and the answers' text."""
    found: set[str] = set()
    text = ""
    query: dict[str, str] = {"q": w.word, "limit": "50"}
    while True:
        page = await _ok(await w.http.get("/v1/search", params=query, headers=person.headers), 200)
        found |= {hit["id"] for hit in page["items"]}
        text += json.dumps(page)
        if not page["next_cursor"]:
            return found, text
        query["cursor"] = page["next_cursor"]


async def test_search_finds_exactly_what_each_person_may_see(world: World) -> None:
    """A search for the word (in every title of every community) by each person of the world
    finds exactly the things the rule lets them see: never one more, even while the index is
    still catching up (each answer is checked), and in the end every one."""
    failures: list[str] = []
    names = {t.id: world.describe(t) for t in world.things()}
    for who, person in _everyone(world):
        if person is None:
            response = await world.http.get("/v1/search", params={"q": world.word})
            failures += [] if response.status_code == 401 else [f"anonymous: {response.status_code}"]
            continue
        expected = {t.id for t in world.things() if searchable(t) and may_see(world, person, t)}

        async def complete(
            person: Person = person, expected: set[str] = expected, who: str = who, failures: list[str] = failures
        ) -> bool:
            found, text = await _search_everything(world, person)
            wrong = sorted(names.get(i, i) for i in found - expected)
            if wrong:
                failures.append(f"{who} finds {wrong}")
            failures.extend(f"{who}: {leak}" for leak in _leaks(world, person, text))
            return bool(wrong) or expected <= found

        await eventually(complete, timeout=30, what=f"the search index to hold what {who} may see")
    print(f"\nresources matrix: searches by {len(_everyone(world))} callers checked")
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures)


def _changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


async def _unchanged(w: World, c: Community, before: dict[str, list[Any]] | None, refused: list[str]) -> list[str]:
    """What the refusals since `before` changed in the community's stored documents (nothing, rightly)."""
    assert before is not None
    changed = _changed(before, await w.snapshot(c))
    return (
        [f"refused in the {c.visibility} community as {', '.join(refused)}, but changed {changed}"] if changed else []
    )


@pytest.mark.timeout(600)
async def test_every_operation_for_every_caller_and_visibility(world: World) -> None:
    failures: list[str] = []
    cases = 0
    started = time.monotonic()
    for operation, columns in MATRIX.items():
        prepare = PREPARE.get(operation, _plain)
        for visibility, statuses in zip(VISIBILITIES, columns, strict=True):
            community = world.communities[visibility]
            # The stored documents before a case that should be refused: the snapshot after the
            # refusal before it, or a new one (after a case that was allowed, which may have written).
            # Refusals in a row are checked together: one snapshot before the first, one after the
            # last (a case that should be allowed, or one whose preparing writes, ends the run).
            before: dict[str, list[Any]] | None = None
            refused: list[str] = []
            writes = not operation.startswith("GET ") or operation in WRITING_READS
            for index, (role, expected) in enumerate(zip(ROLES, statuses.split(), strict=True)):
                cases += 1
                where = f"{operation} [{visibility} community, {role}]"
                refusal = writes and int(expected) >= 400
                if refused and (not refusal or operation in WRITING_PREPARES):
                    failures += await _unchanged(world, community, before, refused)
                    before, refused = None, []
                default_caller = _caller(world, community, role)
                request = await prepare(world, community, default_caller, role, index)
                caller = request.caller or default_caller
                if refusal and before is None:
                    before = await world.snapshot(community)
                response = await _send(world, operation, request, caller)
                if response.status_code != int(expected):
                    failures.append(f"{where}: {response.status_code}, expected {expected}: {response.text[:300]}")
                if refusal and response.status_code >= 400:
                    refused.append(f"{role} ({response.status_code})")
                elif refusal:  # allowed, and it may have written: its status failed already
                    before, refused = None, []
                check = CONTENT_CHECKS.get(operation)
                if check and response.status_code == 200:
                    shown = check(world, request.params, caller, response.json())
                    if shown:
                        failures.append(f"{where}: {shown}")
                # The ids the caller sent come back in `instance`: that tells them nothing.
                told = {s for s in world.secrets if any(s in v for v in request.params.values())}
                failures += [f"{where}: {leak}" for leak in _leaks(world, caller, response.text, told=told)]
                # Someone else's thing is the same 404 as nothing at all, in every community.
                if role not in INSIDE and response.status_code == 404:
                    swapped = {k: _fake(v) if k in SCOPED_PARAMS else v for k, v in request.params.items()}
                    body = request.body
                    for key in SCOPED_PARAMS:  # a report or a moderator action names its content in the body
                        if key in request.params and body is not None:
                            body = json.loads(json.dumps(body).replace(request.params[key], swapped[key]))
                    nothing = await _send(world, operation, Request(swapped, body, files=request.files), caller)
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
            if refused:
                failures += await _unchanged(world, community, before, refused)
    elapsed = time.monotonic() - started
    print(
        f"\nresources matrix: {cases} cases ({len(MATRIX)} operations x {len(ROLES)} callers x "
        f"{len(VISIBILITIES)} visibilities) in {elapsed:.1f} s ({world.snapshot_seconds:.1f} s of it reading snapshots)"
    )
    assert cases == len(MATRIX) * len(ROLES) * len(VISIBILITIES)
    assert failures == [], f"{len(failures)} of {cases} cases failed:\n" + "\n".join(failures)
