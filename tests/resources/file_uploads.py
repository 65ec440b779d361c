"""Uploading through the gateway as a client would, and waiting for the resources
service to know a community's members (its membership view is fed by messages)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import Person, create_community, join
from tests.support.waiting import eventually

Doc = dict[str, Any]


def metadata(**fields: Any) -> dict[str, Any]:
    return {"title": "Falls prevention toolkit", "tags": ["falls"], "licence": "CC-BY-4.0", **fields}


async def upload(
    web: httpx.AsyncClient,
    person: Person,
    community_id: str,
    name: str,
    data: bytes,
    *,
    declared: str = "application/octet-stream",
    fields: dict[str, Any] | None = None,
) -> httpx.Response:
    parts = {
        "metadata": (None, json.dumps(fields or metadata()), "application/json"),
        "file": (name, data, declared),
    }
    return await web.post(f"/v1/communities/{community_id}/resources/files", files=parts, headers=person.headers)


async def upload_version(
    web: httpx.AsyncClient, person: Person, resource_id: str, name: str, data: bytes
) -> httpx.Response:
    parts = {"file": (name, data, "application/octet-stream")}
    return await web.post(f"/v1/resources/{resource_id}/file", files=parts, headers=person.headers)


async def seen_as_member(db: AsyncDatabase[Doc], community_id: str, user_id: str, *, active: bool = True) -> None:
    async def known() -> bool:
        doc = await db.membership_members.find_one({"_id": f"{community_id}:{user_id}"})
        return doc is not None and doc.get("active") is active

    await eventually(known, what=f"{user_id} in the resources service's view of {community_id}")


async def community_with(
    web: httpx.AsyncClient, db: AsyncDatabase[Doc], owner: Person, *members: Person, **fields: Any
) -> str:
    """A community (open to join) whose owner and `members` the resources service knows."""
    community = await create_community(web, owner, join_policy="open", **fields)
    for member in members:
        assert (await join(web, community["id"], member)).status_code in (200, 201)
    for person in (owner, *members):
        await seen_as_member(db, community["id"], person.user_id)

    async def community_known() -> bool:
        return await db.membership_communities.count_documents({"_id": community["id"]}) == 1

    # With two replicas the messages may be handled out of order: wait for the community too.
    await eventually(community_known, what=f"community {community['id']} in the resources service's view")
    return str(community["id"])


async def gridfs_count(db: AsyncDatabase[Doc]) -> tuple[int, int, int]:
    """(files, chunks, pending uploads) in the service's database."""
    return (
        await db["files.files"].count_documents({}),
        await db["files.chunks"].count_documents({}),
        await db.pending_uploads.count_documents({}),
    )
