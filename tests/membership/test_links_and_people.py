"""Peer links between communities; profiles and the expertise directory."""

from __future__ import annotations

import httpx

from tests.support.api import (
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
