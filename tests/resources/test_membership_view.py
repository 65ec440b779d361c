"""The resources service's membership view follows membership's messages: communities,
memberships with roles and bans, and links that share resources."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.support.api import create_community, join, new_person
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def test_the_view_follows_communities_members_and_links(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    owner, member = new_person("owner"), new_person("member")
    community = await create_community(web, owner, visibility="private", join_policy="open")
    partner = await create_community(web, owner)
    assert (await join(web, community["id"], member)).status_code in (200, 201), "open join"

    proposed = await web.post(
        f"/v1/communities/{community['id']}/links",
        json={"to_community_id": partner["id"], "share_resources": True},
        headers=owner.headers,
    )
    assert proposed.status_code in (200, 201), proposed.text
    accepted = await web.post(
        f"/v1/communities/{partner['id']}/links/{proposed.json()['id']}/accept", headers=owner.headers
    )
    assert accepted.status_code == 200, accepted.text

    async def view() -> tuple[Doc, Doc, Doc] | None:
        held = await resources_db.membership_communities.find_one({"_id": community["id"]})
        membership = await resources_db.membership_members.find_one({"_id": f"{community['id']}:{member.user_id}"})
        link = await resources_db.membership_links.find_one({"_id": proposed.json()["id"]})
        if held is None or membership is None or link is None or not link.get("active"):
            return None
        return held, membership, link

    held, membership, link = await eventually(view, what="the membership view")
    assert held["visibility"] == "private" and held["archived"] is False
    assert membership["active"] is True and membership["role"] == "member"
    assert link["communities"] == sorted([community["id"], partner["id"]]) and link["share_resources"] is True

    removed = await web.delete(
        f"/v1/communities/{community['id']}/members/{member.user_id}", params={"ban": "true"}, headers=owner.headers
    )
    assert removed.status_code in (200, 204), removed.text

    async def banned() -> Doc | None:
        doc = await resources_db.membership_members.find_one({"_id": f"{community['id']}:{member.user_id}"})
        return doc if doc is not None and doc.get("banned") else None

    gone = await eventually(banned, what="the ban in the view")
    assert gone["active"] is False
