"""`GET /v1/invitations/{token}`: the invitee sees what they are invited to before accepting;
everyone else is refused exactly as accepting would refuse them."""

from __future__ import annotations

import httpx

from tests.support.api import create_community, new_person


async def test_the_invitee_sees_the_community_and_its_code_of_conduct(client: httpx.AsyncClient) -> None:
    owner, eve, mallory = new_person("owner"), new_person("eve"), new_person("mallory")
    community = await create_community(
        client, owner, name="Night shift leads", join_policy="invite", visibility="hidden"
    )
    cid = community["id"]
    published = await client.put(
        f"/v1/communities/{cid}/code-of-conduct", json={"text": "Be kind."}, headers=owner.headers
    )
    assert published.status_code == 200, published.text
    made = await client.post(f"/v1/communities/{cid}/invitations", json={"user_id": eve.user_id}, headers=owner.headers)
    token = made.json()["token"]

    seen = await client.get(f"/v1/invitations/{token}", headers=eve.headers)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert (body["community_id"], body["community_name"], body["purpose"]) == (
        cid,
        "Night shift leads",
        community["purpose"],
    )
    assert (body["code_of_conduct"]["version"], body["code_of_conduct"]["text"]) == (1, "Be kind.")

    # Someone else holding the link learns nothing of the community, nor does a guess.
    other = await client.get(f"/v1/invitations/{token}", headers=mallory.headers)
    assert other.status_code == 403 and "Night shift" not in other.text and cid not in other.text
    assert (await client.get("/v1/invitations/no-such-token", headers=eve.headers)).status_code == 404
    assert (await client.get(f"/v1/invitations/{token}")).status_code == 401
    assert (await client.get(f"/v1/invitations/{'x' * 300}", headers=eve.headers)).status_code in (404, 422)

    # Looking changes nothing: the invitation can still be accepted, and then it is spent.
    accepted = await client.post(
        f"/v1/invitations/{token}/accept", json={"accept_code_of_conduct_version": 1}, headers=eve.headers
    )
    assert accepted.status_code == 200, accepted.text
    assert (await client.get(f"/v1/invitations/{token}", headers=eve.headers)).status_code == 410


async def test_a_withdrawn_invitation_is_gone(client: httpx.AsyncClient) -> None:
    owner, ivy = new_person("owner"), new_person("ivy")
    cid = (await create_community(client, owner, join_policy="invite"))["id"]
    made = (
        await client.post(f"/v1/communities/{cid}/invitations", json={"user_id": ivy.user_id}, headers=owner.headers)
    ).json()
    assert (await client.get(f"/v1/invitations/{made['token']}", headers=ivy.headers)).json()["code_of_conduct"] is None
    withdrawn = await client.delete(f"/v1/communities/{cid}/invitations/{made['id']}", headers=owner.headers)
    assert withdrawn.status_code == 204
    assert (await client.get(f"/v1/invitations/{made['token']}", headers=ivy.headers)).status_code == 410
