"""Test helpers for moderation: a community with its people (the resources service has
seen them all), content made through the API, reports and actions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import Circle, circle, known_to_resources, link
from tests.support.api import Person, create_community, join, new_person
from tests.support.waiting import eventually

Doc = dict[str, Any]


@dataclass(frozen=True)
class Cast:
    """One community's people: its owner, a facilitator, two members; and an outsider."""

    community_id: str
    owner: Person
    facilitator: Person
    member: Person
    other_member: Person
    outsider: Person


async def seen_by_resources(db: AsyncDatabase[Doc], community_id: str, people: list[Person]) -> None:
    """Wait until the resources service's membership view has these active memberships."""

    async def all_there() -> bool:
        ids = [f"{community_id}:{p.user_id}" for p in people]
        found = await db.membership_members.count_documents({"_id": {"$in": ids}, "active": True})
        return found == len(ids)

    await eventually(all_there, what="the memberships in the resources view")


async def make_cast(web: httpx.AsyncClient, db: AsyncDatabase[Doc], visibility: str = "public") -> Cast:
    """Made public and open to join, then given its `visibility` (hidden ones take no joins)."""
    owner, facilitator = new_person("owner"), new_person("facilitator")
    member, other_member, outsider = new_person("member"), new_person("other"), new_person("outsider")
    created = await create_community(web, owner, join_policy="open")
    community_id = created["id"]
    for person in (facilitator, member, other_member):
        joined = await join(web, community_id, person)
        assert joined.status_code in (200, 201), joined.text
    promoted = await web.patch(
        f"/v1/communities/{community_id}/members/{facilitator.user_id}",
        json={"role": "facilitator"},
        headers=owner.headers,
    )
    assert promoted.status_code == 200, promoted.text
    await seen_by_resources(db, community_id, [owner, facilitator, member, other_member])

    async def facilitator_seen() -> bool:
        doc = await db.membership_members.find_one({"_id": f"{community_id}:{facilitator.user_id}"})
        return doc is not None and doc.get("role") == "facilitator"

    await eventually(facilitator_seen, what="the facilitator's role in the resources view")
    if visibility != "public":
        changed = await web.patch(
            f"/v1/communities/{community_id}", json={"visibility": visibility}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
        await known_to_resources(db, community_id, visibility=visibility)
    return Cast(community_id, owner, facilitator, member, other_member, outsider)


async def partner_of(web: httpx.AsyncClient, db: AsyncDatabase[Doc], cast: Cast) -> Person:
    """The owner of a community linked with the cast's, sharing resources (a partner)."""
    partner = await circle(web, db, members=0, label="partner")
    await link(web, db, Circle(id=cast.community_id, owner=cast.owner), partner)
    return partner.owner


async def post_thread(web: httpx.AsyncClient, community_id: str, author: Person, **fields: Any) -> Doc:
    body = {"kind": "discussion", "title": f"Thread {secrets.token_hex(3)}", "body": "Let us talk.", **fields}
    response = await web.post(f"/v1/communities/{community_id}/threads", json=body, headers=author.headers)
    assert response.status_code == 201, response.text
    thread: Doc = response.json()
    return thread


async def post_reply(web: httpx.AsyncClient, thread_id: str, author: Person, text: str, **fields: Any) -> Doc:
    response = await web.post(f"/v1/threads/{thread_id}/replies", json={"body": text, **fields}, headers=author.headers)
    assert response.status_code == 201, response.text
    reply: Doc = response.json()
    return reply


async def create_note(web: httpx.AsyncClient, community_id: str, author: Person, **fields: Any) -> Doc:
    body = {"kind": "note", "title": f"Note {secrets.token_hex(3)}", "text": "# Practice\n\nWhat works.", **fields}
    response = await web.post(f"/v1/communities/{community_id}/resources", json=body, headers=author.headers)
    assert response.status_code == 201, response.text
    item: Doc = response.json()
    return item


async def report(
    web: httpx.AsyncClient, person: Person, kind: str, content_id: str, reason: str = "spam", details: str = ""
) -> httpx.Response:
    body = {"content": {"kind": kind, "id": content_id}, "reason": reason, "details": details}
    return await web.post("/v1/reports", json=body, headers=person.headers)


async def moderate(
    web: httpx.AsyncClient, person: Person, kind: str, content_id: str, action: str, reason: str | None = None
) -> httpx.Response:
    body: Doc = {"content": {"kind": kind, "id": content_id}, "action": action}
    if reason is not None:
        body["reason"] = reason
    return await web.post("/v1/moderation/actions", json=body, headers=person.headers)


async def queue(web: httpx.AsyncClient, person: Person, community_id: str, **params: Any) -> httpx.Response:
    return await web.get(f"/v1/communities/{community_id}/moderation/queue", params=params, headers=person.headers)


async def log(web: httpx.AsyncClient, person: Person, community_id: str, **params: Any) -> httpx.Response:
    return await web.get(f"/v1/communities/{community_id}/moderation/log", params=params, headers=person.headers)
