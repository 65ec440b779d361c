"""Helpers for discussion tests (threads, replies; the moderation tests use them too):
a community whose members the resources service already knows, threads and replies
posted through the gateway, and the discussion messages on the bus."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, create_community, join, new_person
from tests.support.bus import BusMessage, stream_messages
from tests.support.waiting import eventually

Doc = dict[str, Any]


@dataclass
class Circle:
    """A community with its owner, a facilitator and members, all known to resources."""

    id: str
    owner: Person
    facilitator: Person
    members: list[Person] = field(default_factory=list)

    @property
    def member(self) -> Person:
        return self.members[0]


async def known_to_resources(db: AsyncDatabase[Doc], community_id: str, person: Person, **state: Any) -> None:
    """Wait until the resources service's membership view holds `person` in `community_id`
    with `state` (default: active). Read only: the view is fed by membership's messages."""
    expected = {"active": True, **state}

    async def held() -> bool:
        doc = await db.membership_members.find_one({"_id": f"{community_id}:{person.user_id}"})
        return doc is not None and all(doc.get(k) == v for k, v in expected.items())

    await eventually(held, what=f"{person.user_id} in the resources view of {community_id}")


async def community_known(db: AsyncDatabase[Doc], community_id: str, **state: Any) -> None:
    async def held() -> bool:
        doc = await db.membership_communities.find_one({"_id": community_id})
        return doc is not None and all(doc.get(k) == v for k, v in state.items())

    await eventually(held, what=f"community {community_id} in the resources view")


async def circle(
    web: httpx.AsyncClient, db: AsyncDatabase[Doc], *, members: int = 2, visibility: str = "public"
) -> Circle:
    owner, facilitator = new_person("owner"), new_person("fay")
    # Nobody joins a hidden community by asking: it is hidden once its members are in.
    opened = "private" if visibility == "hidden" else visibility
    community = await create_community(web, owner, visibility=opened, join_policy="open")
    people = [new_person(f"member{i}") for i in range(members)]
    for person in [facilitator, *people]:
        joined = await join(web, community["id"], person)
        assert joined.status_code in (200, 201), joined.text
    promoted = await web.patch(
        f"/v1/communities/{community['id']}/members/{facilitator.user_id}",
        json={"role": "facilitator"},
        headers=owner.headers,
    )
    assert promoted.status_code == 200, promoted.text
    if opened != visibility:
        changed = await web.patch(
            f"/v1/communities/{community['id']}", json={"visibility": visibility}, headers=owner.headers
        )
        assert changed.status_code == 200, changed.text
    await community_known(db, community["id"], visibility=visibility)
    await known_to_resources(db, community["id"], owner, role="owner")
    await known_to_resources(db, community["id"], facilitator, role="facilitator")
    for person in people:
        await known_to_resources(db, community["id"], person)
    return Circle(community["id"], owner, facilitator, people)


async def link_sharing_resources(web: httpx.AsyncClient, db: AsyncDatabase[Doc], a: Circle, b: Circle) -> str:
    """Link two communities with `share_resources`, once resources knows the link."""
    proposed = await web.post(
        f"/v1/communities/{a.id}/links",
        json={"to_community_id": b.id, "share_resources": True},
        headers=a.owner.headers,
    )
    assert proposed.status_code in (200, 201), proposed.text
    link_id = str(proposed.json()["id"])
    accepted = await web.post(f"/v1/communities/{b.id}/links/{link_id}/accept", headers=b.owner.headers)
    assert accepted.status_code == 200, accepted.text

    async def active() -> bool:
        doc = await db.membership_links.find_one({"_id": link_id})
        return doc is not None and bool(doc.get("active"))

    await eventually(active, what="the link in the resources view")
    return link_id


async def start_thread(web: httpx.AsyncClient, community_id: str, author: Person, **fields: Any) -> Doc:
    body = {"kind": "discussion", "title": "How do you run handovers?", "body": "We use *SBAR*.", **fields}
    response = await web.post(f"/v1/communities/{community_id}/threads", json=body, headers=author.headers)
    assert response.status_code == 201, response.text
    thread: Doc = response.json()
    return thread


async def reply(web: httpx.AsyncClient, thread_id: str, author: Person, body: str = "Agreed.", **fields: Any) -> Doc:
    response = await web.post(f"/v1/threads/{thread_id}/replies", json={"body": body, **fields}, headers=author.headers)
    assert response.status_code == 201, response.text
    posted: Doc = response.json()
    return posted


async def discussion_messages(nats_url: str, community_id: str) -> list[BusMessage]:
    return await stream_messages(nats_url, f"weft.discussion.*.*.{community_id}")


async def messages_about(nats_url: str, community_id: str, thread_id: str, *, at_least: int) -> list[BusMessage]:
    """The discussion messages about one thread, once there are `at_least` of them."""

    async def found() -> list[BusMessage] | None:
        about = [
            m for m in await discussion_messages(nats_url, community_id) if m.body["data"]["thread"]["id"] == thread_id
        ]
        return about if len(about) >= at_least else None

    result: list[BusMessage] = await eventually(found, what=f"{at_least} messages about thread {thread_id}")
    return result
