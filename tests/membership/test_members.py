"""Joining, approval, roles, leaving and removal."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.api import (
    create_community,
    join,
    new_person,
    problem,
    problem_fields,
)
from tests.support.bus import community_messages, types_of


async def test_open_join_is_idempotent_and_announced_once(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, bea = new_person("owner"), new_person("bea")
    cid = (await create_community(client, owner))["id"]
    first = await join(client, cid, bea)
    assert first.status_code == 201 and first.json() == {
        "status": "active",
        "request_id": None,
        "role": "member",
    }
    again = await join(client, cid, bea)
    assert again.status_code == 200 and again.json()["status"] == "active"
    # Many concurrent repeats still make one membership and one message.
    await asyncio.gather(*(join(client, cid, bea) for _ in range(5)))
    joined = [m for m in await community_messages(nats_url, cid) if m.type == "org.weft.member.joined.v1"]
    assert [m.body["data"]["user_id"] for m in joined] == [owner.user_id, bea.user_id]
    members = (await client.get(f"/v1/communities/{cid}/members", headers=bea.headers)).json()["items"]
    assert {(m["user_id"], m["role"]) for m in members} == {
        (owner.user_id, "owner"),
        (bea.user_id, "member"),
    }


async def test_approval_queue(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, cai, dev = new_person("owner"), new_person("cai"), new_person("dev")
    cid = (await create_community(client, owner, join_policy="approval"))["id"]
    asked = await join(client, cid, cai, message="I run a memory clinic")
    assert asked.status_code == 202
    request_id = asked.json()["request_id"]
    assert (await join(client, cid, cai)).json()["request_id"] == request_id  # asking twice: same request
    declined_id = (await join(client, cid, dev)).json()["request_id"]

    problem(await client.get(f"/v1/communities/{cid}/requests", headers=cai.headers), 403)
    queue = (await client.get(f"/v1/communities/{cid}/requests", headers=owner.headers)).json()["items"]
    assert {r["request_id"] for r in queue} == {request_id, declined_id}
    assert next(r for r in queue if r["user_id"] == cai.user_id)["message"] == "I run a memory clinic"

    problem(
        await client.post(f"/v1/communities/{cid}/requests/{request_id}/approve", headers=cai.headers),
        403,
    )
    approved = await client.post(f"/v1/communities/{cid}/requests/{request_id}/approve", headers=owner.headers)
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    assert (
        await client.post(
            f"/v1/communities/{cid}/requests/{request_id}/approve",
            headers=owner.headers,
        )
    ).status_code == 200
    problem(
        await client.post(
            f"/v1/communities/{cid}/requests/{request_id}/decline",
            headers=owner.headers,
        ),
        409,
    )
    declined = await client.post(f"/v1/communities/{cid}/requests/{declined_id}/decline", headers=owner.headers)
    assert declined.json()["status"] == "declined"
    problem(
        await client.post(f"/v1/communities/{cid}/requests/nope/approve", headers=owner.headers),
        404,
    )

    assert types_of(await community_messages(nats_url, cid)) == [
        "org.weft.community.created.v1",
        "org.weft.member.joined.v1",
        "org.weft.join.requested.v1",
        "org.weft.join.requested.v1",
        "org.weft.join.approved.v1",
        "org.weft.member.joined.v1",
        "org.weft.join.declined.v1",
    ]
    # Declined people may ask again.
    assert (await join(client, cid, dev)).status_code == 202


async def test_invite_only_needs_an_invitation_for_that_person(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, eve, mallory = new_person("owner"), new_person("eve"), new_person("mallory")
    cid = (await create_community(client, owner, join_policy="invite", visibility="hidden"))["id"]
    problem(await join(client, cid, eve), 404)  # hidden: doesn't exist for her yet

    bad = await client.post(f"/v1/communities/{cid}/invitations", json={}, headers=owner.headers)
    problem(bad, 422)
    bad_email = await client.post(
        f"/v1/communities/{cid}/invitations",
        json={"email": "not-an-email"},
        headers=owner.headers,
    )
    assert problem_fields(bad_email, 422) == {"email"}
    problem(
        await client.post(
            f"/v1/communities/{cid}/invitations",
            json={"email": eve.email},
            headers=eve.headers,
        ),
        404,
    )

    invited = await client.post(
        f"/v1/communities/{cid}/invitations",
        json={"email": eve.email.upper()},
        headers=owner.headers,
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["token"]
    problem(
        await client.post(f"/v1/invitations/{token}/accept", headers=mallory.headers),
        403,
    )
    problem(
        await client.post("/v1/invitations/not-a-token/accept", headers=eve.headers),
        404,
    )
    accepted = await client.post(f"/v1/invitations/{token}/accept", headers=eve.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    assert (await client.post(f"/v1/invitations/{token}/accept", headers=eve.headers)).json()["status"] == "active"
    assert (await client.get(f"/v1/communities/{cid}", headers=eve.headers)).json()["my_role"] == "member"

    messages = await community_messages(nats_url, cid)
    assert types_of(messages)[2:] == [
        "org.weft.invitation.created.v1",
        "org.weft.invitation.accepted.v1",
        "org.weft.member.joined.v1",
    ]
    assert messages[2].body["data"]["invited_email"] == eve.email
    # Invite-only but visible: joining without an invitation is forbidden, not hidden.
    visible = (await create_community(client, owner, join_policy="invite"))["id"]
    problem(await join(client, visible, eve), 403)


async def test_invitation_by_user_id_is_single_use(client: httpx.AsyncClient) -> None:
    owner, fay = new_person("owner"), new_person("fay")
    cid = (await create_community(client, owner, join_policy="invite"))["id"]
    token = (
        await client.post(
            f"/v1/communities/{cid}/invitations",
            json={"user_id": fay.user_id},
            headers=owner.headers,
        )
    ).json()["token"]
    assert (await client.post(f"/v1/invitations/{token}/accept", headers=fay.headers)).status_code == 200
    assert (await client.delete(f"/v1/communities/{cid}/members/{fay.user_id}", headers=fay.headers)).status_code == 204
    problem(await client.post(f"/v1/invitations/{token}/accept", headers=fay.headers), 410)


async def test_a_spent_invitation_never_readmits_a_removed_member(client: httpx.AsyncClient) -> None:
    """Issue 7 item 3, as reported: zed accepts t1, is removed, accepts t2, is removed
    again; t1 (and t2) must not bring zed back."""
    owner, zed = new_person("owner"), new_person("zed")
    cid = (await create_community(client, owner, join_policy="invite"))["id"]
    members = f"/v1/communities/{cid}/members"

    async def invite() -> str:
        made = await client.post(
            f"/v1/communities/{cid}/invitations", json={"user_id": zed.user_id}, headers=owner.headers
        )
        assert made.status_code == 201, made.text
        token: str = made.json()["token"]
        return token

    async def zed_status() -> str | None:
        status: str | None = (await client.get(f"/v1/communities/{cid}", headers=zed.headers)).json()["my_status"]
        return status

    t1 = await invite()
    assert (await client.post(f"/v1/invitations/{t1}/accept", headers=zed.headers)).json()["status"] == "active"
    assert (await client.delete(f"{members}/{zed.user_id}", headers=owner.headers)).status_code == 204
    t2 = await invite()
    assert (await client.post(f"/v1/invitations/{t2}/accept", headers=zed.headers)).json()["status"] == "active"
    assert (await client.delete(f"{members}/{zed.user_id}", headers=owner.headers)).status_code == 204
    for spent in (t1, t2):
        problem(await client.post(f"/v1/invitations/{spent}/accept", headers=zed.headers), 410)
        assert await zed_status() == "removed"
    listed = (await client.get(members, headers=owner.headers)).json()["items"]
    assert [m["user_id"] for m in listed] == [owner.user_id]


async def test_code_of_conduct_must_be_accepted_to_join(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, gus = new_person("owner"), new_person("gus")
    cid = (await create_community(client, owner, code_of_conduct="Be kind. Protect patient data."))["id"]
    refused = await join(client, cid, gus)
    assert problem_fields(refused, 422) == {"accept_code_of_conduct_version"}
    assert (await join(client, cid, gus, accept_code_of_conduct_version=2)).status_code == 422
    assert (await join(client, cid, gus, accept_code_of_conduct_version=1)).status_code == 201

    problem(
        await client.put(
            f"/v1/communities/{cid}/code-of-conduct",
            json={"text": "v2"},
            headers=gus.headers,
        ),
        403,
    )
    v2 = await client.put(
        f"/v1/communities/{cid}/code-of-conduct",
        json={"text": "Be kind. v2."},
        headers=owner.headers,
    )
    assert v2.status_code == 200 and v2.json()["version"] == 2
    problem(
        await client.post(
            f"/v1/communities/{cid}/code-of-conduct/accept",
            json={"version": 1},
            headers=gus.headers,
        ),
        409,
    )
    ok = await client.post(
        f"/v1/communities/{cid}/code-of-conduct/accept",
        json={"version": 2},
        headers=gus.headers,
    )
    assert ok.status_code == 204
    await client.post(
        f"/v1/communities/{cid}/code-of-conduct/accept",
        json={"version": 2},
        headers=gus.headers,
    )
    view = (await client.get(f"/v1/communities/{cid}", headers=gus.headers)).json()
    assert view["my_code_of_conduct_version"] == 2 and view["code_of_conduct"]["version"] == 2
    kinds = types_of(await community_messages(nats_url, cid))
    assert kinds.count("org.weft.code_of_conduct.published.v1") == 1
    assert kinds.count("org.weft.code_of_conduct.accepted.v1") == 1


async def test_roles_and_the_last_owner(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, hal, ivy = new_person("owner"), new_person("hal"), new_person("ivy")
    cid = (await create_community(client, owner))["id"]
    await join(client, cid, hal)
    await join(client, cid, ivy)

    base = f"/v1/communities/{cid}/members"
    problem(
        await client.patch(f"{base}/{owner.user_id}", json={"role": "member"}, headers=owner.headers),
        409,
    )
    problem(await client.delete(f"{base}/{owner.user_id}", headers=owner.headers), 409)
    assert problem_fields(
        await client.patch(f"{base}/{hal.user_id}", json={"role": "king"}, headers=owner.headers),
        422,
    ) == {"role"}
    problem(
        await client.patch(f"{base}/{ivy.user_id}", json={"role": "owner"}, headers=hal.headers),
        403,
    )
    problem(
        await client.patch(f"{base}/nobody", json={"role": "owner"}, headers=owner.headers),
        404,
    )

    promoted = await client.patch(f"{base}/{hal.user_id}", json={"role": "facilitator"}, headers=owner.headers)
    assert promoted.json()["role"] == "facilitator"
    problem(
        await client.patch(f"{base}/{ivy.user_id}", json={"role": "owner"}, headers=hal.headers),
        403,
    )
    facilitators = (await client.get(f"{base}?role=facilitator", headers=ivy.headers)).json()["items"]
    assert [m["user_id"] for m in facilitators] == [hal.user_id]
    plain = (await client.get(f"{base}?role=member", headers=ivy.headers)).json()["items"]
    assert [m["user_id"] for m in plain] == [ivy.user_id]

    # Hand over ownership, then the old owner may leave.
    await client.patch(f"{base}/{ivy.user_id}", json={"role": "owner"}, headers=owner.headers)
    assert (await client.delete(f"{base}/{owner.user_id}", headers=owner.headers)).status_code == 204
    owners = (await client.get(f"{base}?role=owner", headers=ivy.headers)).json()["items"]
    assert [m["user_id"] for m in owners] == [ivy.user_id]

    changes = [
        m.body["data"] for m in await community_messages(nats_url, cid) if m.type == "org.weft.member.role_changed.v1"
    ]
    assert [(c["user_id"], c["old_role"], c["new_role"]) for c in changes] == [
        (hal.user_id, "member", "facilitator"),
        (ivy.user_id, "member", "owner"),
    ]


async def test_removal_ban_and_who_may_remove_whom(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, fac, jo, kim = (
        new_person("owner"),
        new_person("fac"),
        new_person("jo"),
        new_person("kim"),
    )
    cid = (await create_community(client, owner))["id"]
    for person in (fac, jo, kim):
        await join(client, cid, person)
    base = f"/v1/communities/{cid}/members"
    await client.patch(f"{base}/{fac.user_id}", json={"role": "facilitator"}, headers=owner.headers)

    problem(await client.delete(f"{base}/{kim.user_id}", headers=jo.headers), 403)
    problem(await client.delete(f"{base}/{owner.user_id}", headers=fac.headers), 403)
    assert (await client.delete(f"{base}/{jo.user_id}?ban=true", headers=fac.headers)).status_code == 204
    problem(await join(client, cid, jo), 403)
    assert (await client.delete(f"{base}/{kim.user_id}", headers=fac.headers)).status_code == 204
    assert (await join(client, cid, kim)).status_code == 201  # removed without a ban may come back
    problem(await client.delete(f"{base}/{jo.user_id}", headers=fac.headers), 404)
    assert problem_fields(await client.delete(f"{base}/{kim.user_id}?ban=maybe", headers=fac.headers), 422) == {"ban"}

    removed = [
        m.body["data"] for m in await community_messages(nats_url, cid) if m.type == "org.weft.member.removed.v1"
    ]
    assert [(r["user_id"], r["banned"], r["removed_by"]) for r in removed] == [
        (jo.user_id, True, fac.user_id),
        (kim.user_id, False, fac.user_id),
    ]


async def test_outsiders_learn_nothing_about_hidden_communities(
    client: httpx.AsyncClient,
) -> None:
    owner, outsider = new_person("owner"), new_person("outsider")
    hidden = (await create_community(client, owner, visibility="hidden"))["id"]
    private = (await create_community(client, owner, visibility="private"))["id"]
    # Well-formed requests, so only existence decides the answer.
    calls: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", "", None),
        ("PATCH", "", {"name": "Nope nope"}),
        ("POST", "/archive", None),
        ("GET", "/members", None),
        ("POST", "/members", None),
        ("GET", "/requests", None),
        ("POST", "/invitations", {"email": "a@example.org"}),
        ("GET", "/links", None),
        ("POST", "/links", {"to_community_id": private}),
        ("PUT", "/code-of-conduct", {"text": "x"}),
        ("POST", "/code-of-conduct/accept", {"version": 1}),
        ("DELETE", f"/members/{owner.user_id}", None),
        ("PATCH", f"/members/{owner.user_id}", {"role": "member"}),
    ]
    for method, suffix, body in calls:
        response = await client.request(
            method,
            f"/v1/communities/{hidden}{suffix}",
            json=body,
            headers=outsider.headers,
        )
        problem(response, 404)
    # Private: exists, but members and links are for members only.
    problem(
        await client.get(f"/v1/communities/{private}/members", headers=outsider.headers),
        403,
    )
    problem(
        await client.get(f"/v1/communities/{private}/links", headers=outsider.headers),
        403,
    )


async def test_member_count_follows_joins_and_leaves(client: httpx.AsyncClient) -> None:
    owner, lee, max_ = new_person("owner"), new_person("lee"), new_person("max")
    cid = (await create_community(client, owner))["id"]

    async def count() -> int:
        response = await client.get(f"/v1/communities/{cid}", headers=owner.headers)
        value: int = response.json()["member_count"]
        return value

    assert await count() == 1
    await join(client, cid, lee)
    await join(client, cid, max_)
    assert await count() == 3
    await client.delete(f"/v1/communities/{cid}/members/{lee.user_id}", headers=lee.headers)
    assert await count() == 2


async def test_concurrent_changes_to_one_community_are_all_kept(client: httpx.AsyncClient, nats_url: str) -> None:
    """Ten owners' decisions at once on one community document: none may be lost
    (each answered 200 must be in the final state and announced once)."""
    owner = new_person("owner")
    cid = (await create_community(client, owner))["id"]
    people = [new_person(f"p{i}") for i in range(10)]
    await asyncio.gather(*(join(client, cid, p) for p in people))
    responses = await asyncio.gather(
        *(
            client.patch(
                f"/v1/communities/{cid}/members/{p.user_id}", json={"role": "facilitator"}, headers=owner.headers
            )
            for p in people
        )
    )
    assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
    promoted = {p.user_id for p, r in zip(people, responses, strict=True) if r.status_code == 200}
    listed = (await client.get(f"/v1/communities/{cid}/members?role=facilitator", headers=owner.headers)).json()
    assert {m["user_id"] for m in listed["items"]} == promoted
    changes = [m for m in await community_messages(nats_url, cid) if m.type == "org.weft.member.role_changed.v1"]
    assert sorted(m.body["data"]["user_id"] for m in changes) == sorted(promoted)
    assert len(promoted) >= 5  # optimistic retries let most through at once
