"""Test helpers for moderation: a community with its people (the resources service has
seen them all), reports and actions. Content is made with `tests.resources.library`
(items) and `tests.resources.discussions` (threads, replies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import Circle, circle, link
from tests.support.api import Person, new_person

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


async def make_cast(web: httpx.AsyncClient, db: AsyncDatabase[Doc], visibility: str = "public") -> Cast:
    made = await circle(web, db, members=2, facilitators=1, visibility=visibility)
    return Cast(made.id, made.owner, made.facilitator, made.members[0], made.members[1], new_person("outsider"))


async def partner_of(web: httpx.AsyncClient, db: AsyncDatabase[Doc], cast: Cast) -> Person:
    """The owner of a community linked with the cast's, sharing resources (a partner)."""
    partner = await circle(web, db, members=0, label="partner")
    await link(web, db, Circle(id=cast.community_id, owner=cast.owner), partner)
    return partner.owner


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
