"""Peer links between communities; profiles and the expertise directory."""

from __future__ import annotations

import secrets

import httpx

from tests.support.api import (
    Person,
    create_community,
    join,
    new_person,
    problem,
    problem_fields,
)
from tests.support.bus import community_messages, stream_messages, types_of


async def test_peer_link_lifecycle(client: httpx.AsyncClient, nats_url: str) -> None:
    ana, ben, member = new_person("ana"), new_person("ben"), new_person("member")
    a = (await create_community(client, ana))["id"]
    b = (await create_community(client, ben))["id"]
    await join(client, a, member)

    problem(
        await client.post(
            f"/v1/communities/{a}/links",
            json={"to_community_id": b},
            headers=member.headers,
        ),
        403,
    )
    assert problem_fields(
        await client.post(
            f"/v1/communities/{a}/links",
            json={"to_community_id": a},
            headers=ana.headers,
        ),
        400,
    ) == {"to_community_id"}
    assert problem_fields(
        await client.post(
            f"/v1/communities/{a}/links",
            json={"to_community_id": "missing"},
            headers=ana.headers,
        ),
        400,
    ) == {"to_community_id"}

    proposed = await client.post(
        f"/v1/communities/{a}/links",
        json={"to_community_id": b, "share_resources": False},
        headers=ana.headers,
    )
    assert proposed.status_code == 201, proposed.text
    link = proposed.json()
    assert link["status"] == "proposed" and link["share_events"] is True and link["share_resources"] is False
    problem(
        await client.post(
            f"/v1/communities/{b}/links",
            json={"to_community_id": a},
            headers=ben.headers,
        ),
        409,
    )

    problem(
        await client.post(f"/v1/communities/{a}/links/{link['id']}/accept", headers=ana.headers),
        403,
    )
    accepted = await client.post(f"/v1/communities/{b}/links/{link['id']}/accept", headers=ben.headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "active"
    listed = (await client.get(f"/v1/communities/{a}/links", headers=member.headers)).json()
    assert [x["id"] for x in listed] == [link["id"]]

    problem(
        await client.delete(f"/v1/communities/{a}/links/{link['id']}", headers=member.headers),
        403,
    )
    assert (await client.delete(f"/v1/communities/{b}/links/{link['id']}", headers=ben.headers)).status_code == 204
    problem(
        await client.delete(f"/v1/communities/{b}/links/{link['id']}", headers=ben.headers),
        404,
    )
    assert (await client.get(f"/v1/communities/{a}/links", headers=ana.headers)).json() == []

    # Each community's subscribers see every link message about it.
    link_types = [
        "org.weft.link.proposed.v1",
        "org.weft.link.accepted.v1",
        "org.weft.link.removed.v1",
    ]
    for cid in (a, b):
        kinds = [t for t in types_of(await community_messages(nats_url, cid)) if t.startswith("org.weft.link.")]
        assert kinds == link_types

    # A removed link can be proposed again.
    again = await client.post(f"/v1/communities/{b}/links", json={"to_community_id": a}, headers=ben.headers)
    assert again.status_code == 201 and again.json()["from_community_id"] == b


async def test_profile_and_who_appears_in_the_people_directory(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, pat, quinn, outsider = (
        new_person("owner"),
        new_person("pat"),
        new_person("quinn"),
        new_person("out"),
    )
    skill = f"skill{new_person().user_id[-8:]}"
    public = (await create_community(client, owner, visibility="public"))["id"]
    private = (await create_community(client, owner, visibility="private", join_policy="open"))["id"]
    await join(client, public, pat)
    await join(client, private, quinn)
    for person in (pat, quinn):
        response = await client.put(
            "/v1/me/profile",
            json={
                "display_name": f"{person.name} Smith",
                "organisation": "NHS Trust",
                "expertise": [skill.upper(), "Falls"],
            },
            headers=person.headers,
        )
        assert response.status_code == 200, response.text
    assert problem_fields(
        await client.put("/v1/me/profile", json={"expertise": "one"}, headers=pat.headers),
        422,
    ) == {"expertise"}
    assert problem_fields(
        await client.put("/v1/me/profile", json={"bio": "x" * 2001}, headers=pat.headers),
        422,
    ) == {"bio"}

    async def found(person: object, **params: str) -> set[str]:
        response = await client.get("/v1/people", params=params, headers=person.headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        return {p["user_id"] for p in response.json()["items"]}

    # Members of private communities are visible only to fellow members.
    assert await found(outsider, expertise=skill) == {pat.user_id}
    assert await found(owner, expertise=skill) == {pat.user_id, quinn.user_id}
    assert await found(owner, q="quinn smi") == {quinn.user_id}
    people = (await client.get("/v1/people", params={"expertise": skill}, headers=owner.headers)).json()["items"]
    assert all("email" not in p or p["email"] is None for p in people)

    me = (await client.get("/v1/me", headers=quinn.headers)).json()
    assert me["organisation"] == "NHS Trust" and [c["id"] for c in me["communities"]] == [private]
    updates = [
        m
        for m in await stream_messages(nats_url, "weft.profile.updated.v1.network")
        if m.body["data"]["user_id"] == pat.user_id
    ]
    assert len(updates) == 1 and updates[0].body["data"]["expertise"] == [
        skill.upper(),
        "Falls",
    ]


async def test_a_link_never_shows_a_community_the_caller_may_not_know(client: httpx.AsyncClient) -> None:
    """Issue 7 item 1: public A linked with hidden H. A's list of links shows H only
    to H's members, whatever they are to A; to everyone else H does not exist."""
    ana, hal, both = new_person("ana"), new_person("hal"), new_person("both")
    outsider, pending, banned, member = (new_person(n) for n in ("outsider", "pending", "banned", "member"))
    a = (await create_community(client, ana, visibility="public", join_policy="approval"))["id"]
    h = (await create_community(client, hal, visibility="hidden", join_policy="open"))["id"]
    p = (await create_community(client, new_person("pia"), visibility="private"))["id"]
    proposed = await client.post(f"/v1/communities/{h}/links", json={"to_community_id": a}, headers=hal.headers)
    assert proposed.status_code == 201, proposed.text
    hidden_link = proposed.json()["id"]
    for person in (member, banned, both):
        request_id = (await join(client, a, person)).json()["request_id"]
        approved = await client.post(f"/v1/communities/{a}/requests/{request_id}/approve", headers=ana.headers)
        assert approved.status_code == 200, approved.text
    assert (await join(client, a, pending)).status_code == 202
    assert (
        await client.delete(f"/v1/communities/{a}/members/{banned.user_id}?ban=true", headers=ana.headers)
    ).status_code == 204
    invited = await client.post(f"/v1/communities/{h}/invitations", json={"user_id": both.user_id}, headers=hal.headers)
    assert invited.status_code == 201, invited.text
    entered = await client.post(invited.json()["accept_path"], headers=both.headers)
    assert entered.status_code == 200, entered.text
    # A's owner is asked by H (the proposal names A); the link id is all they need to accept.
    accepted = await client.post(f"/v1/communities/{a}/links/{hidden_link}/accept", headers=ana.headers)
    assert accepted.status_code == 200, accepted.text
    # A link to a private community shows: that community is in the directory for everyone.
    private_link = await client.post(f"/v1/communities/{a}/links", json={"to_community_id": p}, headers=ana.headers)
    assert private_link.status_code == 201, private_link.text

    async def linked_ids(person: object) -> set[str]:
        response = await client.get(f"/v1/communities/{a}/links", headers=person.headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        return {community for x in response.json() for community in (x["from_community_id"], x["to_community_id"])}

    for person in (outsider, pending, banned, member, ana):
        assert h not in await linked_ids(person), person
    assert p in await linked_ids(ana)  # owners see proposed links too
    assert h in await linked_ids(both)  # a member of H knows H
    # H's own list (for its members) shows A.
    assert a in {
        x["to_community_id"] for x in (await client.get(f"/v1/communities/{h}/links", headers=hal.headers)).json()
    }
    problem(await client.get(f"/v1/communities/{h}/links", headers=ana.headers), 404)


async def test_a_person_who_never_saved_a_profile_is_found_by_name(client: httpx.AsyncClient) -> None:
    """The search terms were written only by a profile update, so `q` missed everyone else."""
    owner = new_person("owner")
    surname = f"okafor{secrets.token_hex(3)}"
    ben = Person(user_id=f"ben-{secrets.token_hex(4)}", email="ben@example.org", name=f"Ben {surname.title()}")
    cid = (await create_community(client, owner, visibility="public"))["id"]
    await join(client, cid, ben)
    response = await client.get("/v1/people", params={"q": surname}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert [p["user_id"] for p in response.json()["items"]] == [ben.user_id]
