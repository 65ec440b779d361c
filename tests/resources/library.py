"""Helpers for library tests (and the other resources tests): communities with members
and links, made through the gateway, and items created through the API.

The resources service learns communities, members and links from membership's
messages, so each helper waits until the service's membership view has the fact
(a read of its database, never a write) before it returns."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, create_community, join, new_person
from tests.support.waiting import eventually

Doc = dict[str, Any]


@dataclass
class Circle:
    """A community as the tests use it: its id, owner, facilitators and members."""

    id: str
    owner: Person
    facilitators: list[Person] = field(default_factory=list)
    members: list[Person] = field(default_factory=list)

    @property
    def member(self) -> Person:
        return self.members[0]

    @property
    def facilitator(self) -> Person:
        return self.facilitators[0]


async def known_to_resources(
    db: AsyncDatabase[Doc], community_id: str, *people: Person, visibility: str = "", **state: Any
) -> None:
    """Wait until the resources service's view has the community (with this visibility)
    and each person as a member with `state` (default: active; `role=...`, `banned=...`).
    Read only: the view is fed by membership's messages."""
    expected = {"active": True, **state}

    async def check() -> bool:
        held = await db.membership_communities.find_one({"_id": community_id})
        if held is None or (visibility and held.get("visibility") != visibility):
            return False
        for person in people:
            held = await db.membership_members.find_one({"_id": f"{community_id}:{person.user_id}"})
            if held is None or any(held.get(k) != v for k, v in expected.items()):
                return False
        return True

    await eventually(check, what=f"the resources view of {community_id}")


async def circle(
    web: httpx.AsyncClient,
    db: AsyncDatabase[Doc],
    *,
    members: int = 1,
    facilitators: int = 0,
    visibility: str = "public",
    label: str = "c",
) -> Circle:
    """A community with an owner, `facilitators` and `members`, known to resources. Made
    public and open to join, then given its `visibility` (hidden ones take no joins)."""
    owner = new_person(f"{label}-owner")
    community = await create_community(web, owner, visibility="public", join_policy="open")
    made = Circle(
        id=community["id"],
        owner=owner,
        facilitators=[new_person(f"{label}-facilitator") for _ in range(facilitators)],
        members=[new_person(f"{label}-member") for _ in range(members)],
    )
    for person in [*made.facilitators, *made.members]:
        joined = await join(web, made.id, person)
        assert joined.status_code in (200, 201), joined.text
    for person in made.facilitators:
        changed = await web.patch(
            f"/v1/communities/{made.id}/members/{person.user_id}", json={"role": "facilitator"}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
    if visibility != "public":
        changed = await web.patch(f"/v1/communities/{made.id}", json={"visibility": visibility}, headers=owner.headers)
        assert changed.status_code == 200, changed.text
    await known_to_resources(db, made.id, made.owner, *made.members, visibility=visibility)
    if made.facilitators:
        await known_to_resources(db, made.id, *made.facilitators, role="facilitator")
    return made


async def ban(web: httpx.AsyncClient, db: AsyncDatabase[Doc], community_id: str, owner: Person, person: Person) -> None:
    """The owner removes and bans `person`; once the resources service's view holds the ban."""
    removed = await web.delete(
        f"/v1/communities/{community_id}/members/{person.user_id}", params={"ban": "true"}, headers=owner.headers
    )
    assert removed.status_code in (200, 204), removed.text
    await known_to_resources(db, community_id, person, active=False, banned=True)


async def link(
    web: httpx.AsyncClient, db: AsyncDatabase[Doc], a: Circle, b: Circle, *, share_resources: bool = True
) -> str:
    """Link `a` with `b` (proposed by a's owner, accepted by b's); the link's id, once resources knows it."""
    proposed = await web.post(
        f"/v1/communities/{a.id}/links",
        json={"to_community_id": b.id, "share_resources": share_resources},
        headers=a.owner.headers,
    )
    assert proposed.status_code == 201, proposed.text
    link_id: str = proposed.json()["id"]
    accepted = await web.post(f"/v1/communities/{b.id}/links/{link_id}/accept", headers=b.owner.headers)
    assert accepted.status_code == 200, accepted.text

    async def active() -> bool:
        held = await db.membership_links.find_one({"_id": link_id})
        return held is not None and bool(held.get("active"))

    await eventually(active, what="the link in the resources view")
    return link_id


async def unlink(web: httpx.AsyncClient, db: AsyncDatabase[Doc], a: Circle, link_id: str) -> None:
    removed = await web.delete(f"/v1/communities/{a.id}/links/{link_id}", headers=a.owner.headers)
    assert removed.status_code == 204, removed.text

    async def inactive() -> bool:
        held = await db.membership_links.find_one({"_id": link_id})
        return held is not None and not held.get("active")

    await eventually(inactive, what="the link's removal in the resources view")


def note_body(**fields: Any) -> Doc:
    return {
        "kind": "note",
        "title": f"Handover checklist {secrets.token_hex(2)}",
        "summary": "What we check at every shift change",
        "tags": ["handover", "patient-safety"],
        "authors": ["Ana Silva"],
        "licence": "CC-BY-4.0",
        "text": "# Handover\n\n- check the **drug chart**\n- read the notes\n",
        **fields,
    }


def link_body(**fields: Any) -> Doc:
    return {
        "kind": "link",
        "title": f"NICE guideline {secrets.token_hex(2)}",
        "summary": "Falls in older people",
        "tags": ["falls"],
        "url": "https://www.nice.org.uk/guidance/ng249",
        **fields,
    }


async def create_item(web: httpx.AsyncClient, person: Person, community_id: str, body: Doc) -> Doc:
    response = await web.post(f"/v1/communities/{community_id}/resources", json=body, headers=person.headers)
    assert response.status_code == 201, response.text
    created: Doc = response.json()
    return created


async def create_note(web: httpx.AsyncClient, person: Person, community_id: str, **fields: Any) -> Doc:
    return await create_item(web, person, community_id, note_body(**fields))


async def create_link(web: httpx.AsyncClient, person: Person, community_id: str, **fields: Any) -> Doc:
    return await create_item(web, person, community_id, link_body(**fields))


async def library(web: httpx.AsyncClient, person: Person, community_id: str, **params: Any) -> list[Doc]:
    """Every item of the community's library the person sees (all pages), newest first."""
    items: list[Doc] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await web.get(f"/v1/communities/{community_id}/resources", params=query, headers=person.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        await asyncio.sleep(0)
