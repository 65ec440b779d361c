"""The inbox through the gateway: a join request reaches the community's staff."""

from __future__ import annotations

import httpx

from tests.notifications.inboxes import inbox, unread
from tests.support.api import Person, create_community, join, new_person, problem
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


async def test_pages_filters_and_read_all_per_community(web: httpx.AsyncClient) -> None:
    ana, eve = new_person("ana"), new_person("eve")
    first = await create_community(web, ana, join_policy="approval")
    second = await create_community(web, ana, join_policy="approval")
    for community, count in ((first, 5), (second, 3)):
        for n in range(count):
            assert (await join(web, community["id"], new_person(f"p{n}"))).status_code == 202
    await eventually(lambda: _has(web, ana, 8), what="eight notifications")

    # Newest first, in keyset pages of 3: 8..6, 5..3, 2..1.
    seen: list[int] = []
    cursor = None
    for expected in (3, 3, 2):
        response = await web.get(
            "/v1/me/notifications", params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=ana.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) == expected
        seen += [item["seq"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == list(range(8, 0, -1)) and cursor is None

    assert {i["community_id"] for i in await inbox(web, ana, community_id=second["id"])} == {second["id"]}
    assert len(await inbox(web, ana, community_id=second["id"])) == 3

    for marked in (5, 0):  # idempotent
        response = await web.post(
            "/v1/me/notifications/read-all", params={"community_id": first["id"]}, headers=ana.headers
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"marked": marked}
    assert await unread(web, ana) == 3
    assert {i["community_id"] for i in await inbox(web, ana, unread="true")} == {second["id"]}
    assert [i["community_id"] for i in await inbox(web, ana, unread="false")] == [first["id"]] * 5

    # Ana's cursor in Eve's hands pages Eve's own list: nothing of Ana's.
    mine = await create_community(web, eve, join_policy="approval")
    assert (await join(web, mine["id"], new_person("q"))).status_code == 202
    await eventually(lambda: _has(web, eve, 1), what="eve's notification")
    page = await web.get("/v1/me/notifications", params={"limit": 3}, headers=ana.headers)
    borrowed = await web.get("/v1/me/notifications", params={"cursor": page.json()["next_cursor"]}, headers=eve.headers)
    assert borrowed.status_code == 200, borrowed.text
    assert [i["community_id"] for i in borrowed.json()["items"]] == [mine["id"]]
    problem(await web.get("/v1/me/notifications", params={"cursor": "not-a-cursor"}, headers=eve.headers), 400)


async def _has(web: httpx.AsyncClient, person: Person, count: int) -> bool:
    return len(await inbox(web, person, limit=100)) >= count
