"""The inbox through the gateway: a join request reaches the community's staff."""

from __future__ import annotations

import httpx

from tests.notifications.inboxes import inbox, unread
from tests.support.api import create_community, join, new_person, problem
from tests.support.waiting import eventually


async def test_a_join_request_reaches_the_owner_and_is_marked_read(web: httpx.AsyncClient) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await create_community(web, ana, join_policy="approval")
    asked = await join(web, community["id"], ben, message="I run the falls clinic")
    assert asked.status_code == 202, asked.text

    items = await eventually(lambda: inbox(web, ana), what="the owner's notification")
    [item] = items
    assert item["type"] == "join_requested"
    assert item["community_id"] == community["id"]
    assert item["actor_id"] == ben.user_id
    assert item["target"] == {"community_id": community["id"], "request_id": asked.json()["request_id"]}
    assert item["read"] is False and item["seq"] == 1
    assert await unread(web, ana) == 1
    assert await inbox(web, ben) == []  # the actor is not told of their own action

    for _ in range(2):  # idempotent
        marked = await web.post(f"/v1/me/notifications/{item['id']}/read", headers=ana.headers)
        assert marked.status_code == 200, marked.text
        assert marked.json()["read"] is True
    assert await unread(web, ana) == 0
    assert await inbox(web, ana, unread="true") == []


async def test_someone_elses_notification_is_not_found(web: httpx.AsyncClient) -> None:
    ana, ben, eve = new_person("ana"), new_person("ben"), new_person("eve")
    community = await create_community(web, ana, join_policy="approval")
    assert (await join(web, community["id"], ben)).status_code == 202
    [item] = await eventually(lambda: inbox(web, ana), what="the owner's notification")
    problem(await web.post(f"/v1/me/notifications/{item['id']}/read", headers=eve.headers), 404)
    problem(await web.post("/v1/me/notifications/nothing/read", headers=eve.headers), 404)
    assert (await inbox(web, ana))[0]["read"] is False
