"""Issue 7, the outside tester's findings on membership: slugs that confirmed a hidden
community, a repeated approval answering differently, invitations and requests that
could not be taken back, and a link's answer naming a hidden community."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from tests.support.api import create_community, join, new_person, problem, problem_fields
from tests.support.bus import community_messages, types_of
from weft_membership.storage import Storage


async def test_a_probe_by_slug_or_name_learns_nothing_of_a_hidden_community(client: httpx.AsyncClient) -> None:
    owner, prober = new_person("owner"), new_person("prober")
    word = f"safeguarding{secrets.token_hex(3)}"
    name = f"Hidden {word}"
    hidden = await create_community(client, owner, name=name, visibility="hidden")
    assert hidden["slug"].startswith(f"hidden-{word}-") and len(hidden["slug"]) > len(f"hidden-{word}-") + 12
    # The slug its name gives, chosen or derived, is free: 201 with exactly that slug, no suffix.
    chosen = await create_community(client, prober, name="Probe", slug=f"hidden-{word}")
    assert chosen["slug"] == f"hidden-{word}"
    # Probing the name once the plain slug is taken (by the prober) answers as for any public name.
    again = await create_community(client, prober, name=f"Other {word}")
    assert again["slug"] == f"other-{word}"
    # A hidden community's slug is never chosen by its creator: no probe can collide with it.
    refused = await client.post(
        "/v1/communities",
        json={"name": "Hidden two", "purpose": "p", "slug": f"h2-{word}", "visibility": "hidden"},
        headers=owner.headers,
    )
    assert problem_fields(refused, 422) == {"slug"}


async def test_a_community_made_hidden_frees_its_slug(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, prober = new_person("owner"), new_person("prober")
    slug = f"quiet-{secrets.token_hex(3)}"
    made = await create_community(client, owner, name="Quiet", slug=slug)
    changed = await client.patch(f"/v1/communities/{made['id']}", json={"visibility": "hidden"}, headers=owner.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["slug"].startswith("quiet-") and changed.json()["slug"] != slug
    probe = await create_community(client, prober, name="Probe", slug=slug)
    assert probe["slug"] == slug
    updated = [m for m in await community_messages(nats_url, made["id"]) if m.type.endswith("updated.v1")]
    assert updated[-1].body["data"]["changed"] == ["slug", "visibility"]
    assert updated[-1].body["data"]["community"]["slug"] == changed.json()["slug"]
    # Back to public: it keeps the slug it has (unguessable, and unique).
    public = await client.patch(f"/v1/communities/{made['id']}", json={"visibility": "public"}, headers=owner.headers)
    assert public.json()["slug"] == changed.json()["slug"]


async def test_approving_again_gives_the_same_answer(client: httpx.AsyncClient) -> None:
    owner, cai = new_person("owner"), new_person("cai")
    cid = (await create_community(client, owner, join_policy="approval"))["id"]
    request_id = (await join(client, cid, cai)).json()["request_id"]
    url = f"/v1/communities/{cid}/requests/{request_id}/approve"
    first = await client.post(url, headers=owner.headers)
    second = await client.post(url, headers=owner.headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"status": "active", "request_id": request_id, "role": "member"}


async def test_inviting_yourself_or_a_member_is_refused(client: httpx.AsyncClient) -> None:
    owner, bea = new_person("owner"), new_person("bea")
    cid = (await create_community(client, owner))["id"]
    assert (await join(client, cid, bea)).status_code == 201
    url = f"/v1/communities/{cid}/invitations"
    for body, field in (
        ({"user_id": owner.user_id}, "user_id"),
        ({"email": owner.email.upper()}, "email"),
        ({"user_id": bea.user_id}, "user_id"),
    ):
        response = await client.post(url, json=body, headers=owner.headers)
        assert problem_fields(response, 409) == {field}, body
        assert next(iter(body.values())) in response.json()["detail"]
    # Someone who left may be invited back.
    assert (await client.delete(f"{url[:-12]}/members/{bea.user_id}", headers=bea.headers)).status_code == 204
    assert (await client.post(url, json={"user_id": bea.user_id}, headers=owner.headers)).status_code == 201


async def test_staff_withdraw_an_invitation_and_its_token_then_answers_410(
    client: httpx.AsyncClient, nats_url: str
) -> None:
    owner, zed, member = new_person("owner"), new_person("zed"), new_person("member")
    cid = (await create_community(client, owner, join_policy="invite"))["id"]
    invitation = await client.post(
        f"/v1/communities/{cid}/invitations", json={"user_id": member.user_id}, headers=owner.headers
    )
    await client.post(invitation.json()["accept_path"], headers=member.headers)
    made = (
        await client.post(f"/v1/communities/{cid}/invitations", json={"user_id": zed.user_id}, headers=owner.headers)
    ).json()
    url = f"/v1/communities/{cid}/invitations/{made['id']}"
    problem(await client.delete(url, headers=member.headers), 403)  # members are not staff
    problem(await client.delete(url, headers=zed.headers), 403)  # nor is the invitee
    problem(await client.delete(f"/v1/communities/{cid}/invitations/{'0' * 24}", headers=owner.headers), 404)
    assert (await client.delete(url, headers=owner.headers)).status_code == 204
    assert (await client.delete(url, headers=owner.headers)).status_code == 204  # withdrawing twice: no-op
    gone = problem(await client.post(made["accept_path"], headers=zed.headers), 410)
    assert "withdrawn" in gone["detail"]
    withdrawn = [m for m in await community_messages(nats_url, cid) if m.type == "org.weft.invitation.withdrawn.v1"]
    assert [m.body["data"] for m in withdrawn] == [
        {"community_id": cid, "invitation_id": made["id"], "withdrawn_by": owner.user_id}
    ]
    # An accepted invitation is history: it cannot be withdrawn.
    problem(
        await client.delete(f"/v1/communities/{cid}/invitations/{invitation.json()['id']}", headers=owner.headers), 409
    )


async def test_a_pending_person_withdraws_their_own_request(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, cai = new_person("owner"), new_person("cai")
    cid = (await create_community(client, owner, join_policy="approval"))["id"]
    request_id = (await join(client, cid, cai)).json()["request_id"]
    assert (await client.delete(f"/v1/communities/{cid}/members/{cai.user_id}", headers=cai.headers)).status_code == 204
    problem(await client.delete(f"/v1/communities/{cid}/members/{cai.user_id}", headers=cai.headers), 404)
    queue = (await client.get(f"/v1/communities/{cid}/requests", headers=owner.headers)).json()["items"]
    assert queue == []
    late = problem(
        await client.post(f"/v1/communities/{cid}/requests/{request_id}/approve", headers=owner.headers), 409
    )
    assert "withdrawn" in late["detail"]
    assert types_of(await community_messages(nats_url, cid))[-2:] == [
        "org.weft.join.requested.v1",
        "org.weft.join.withdrawn.v1",
    ]
    me = (await client.get(f"/v1/communities/{cid}", headers=cai.headers)).json()
    assert me["my_status"] == "left"
    assert (await join(client, cid, cai)).status_code == 202  # and may ask again


async def test_accepting_a_link_from_a_hidden_community_does_not_name_it(client: httpx.AsyncClient) -> None:
    ana, hal = new_person("ana"), new_person("hal")
    a = (await create_community(client, ana))["id"]
    h = (await create_community(client, hal, visibility="hidden"))["id"]
    link = (await client.post(f"/v1/communities/{h}/links", json={"to_community_id": a}, headers=hal.headers)).json()
    accepted = await client.post(f"/v1/communities/{a}/links/{link['id']}/accept", headers=ana.headers)
    assert accepted.status_code == 200, accepted.text
    assert h not in accepted.text and hal.user_id not in accepted.text
    assert accepted.json()["from_community_id"] is None and accepted.json()["to_community_id"] == a
    # Accepting again (a repeat) answers the same; H's own owner sees the whole link.
    assert (await client.post(f"/v1/communities/{a}/links/{link['id']}/accept", headers=ana.headers)).json() == (
        accepted.json()
    )
    listed = (await client.get(f"/v1/communities/{h}/links", headers=hal.headers)).json()
    assert [(x["from_community_id"], x["proposed_by"]) for x in listed] == [(h, hal.user_id)]


async def test_a_link_from_a_hidden_community_is_listed_unnamed_to_the_target_owners_only(
    client: httpx.AsyncClient,
) -> None:
    """The second trial: the owner could accept a proposal they could not see listed, and then
    not find the active link to remove it; its members must still not learn of the hidden side."""
    ana, hal, mo = new_person("ana"), new_person("hal"), new_person("mo")
    a = (await create_community(client, ana))["id"]
    await join(client, a, mo)
    h = (await create_community(client, hal, visibility="hidden"))["id"]
    link = (await client.post(f"/v1/communities/{h}/links", json={"to_community_id": a}, headers=hal.headers)).json()
    for state in ("proposed", "active"):
        listed = await client.get(f"/v1/communities/{a}/links", headers=ana.headers)
        assert listed.status_code == 200 and h not in listed.text and hal.user_id not in listed.text
        assert [(x["id"], x["status"], x["from_community_id"], x["to_community_id"]) for x in listed.json()] == [
            (link["id"], state, None, a)
        ]
        seen_by_member = await client.get(f"/v1/communities/{a}/links", headers=mo.headers)
        assert seen_by_member.json() == [] and h not in seen_by_member.text
        if state == "proposed":
            accepted = await client.post(f"/v1/communities/{a}/links/{link['id']}/accept", headers=ana.headers)
            assert accepted.status_code == 200, accepted.text
    assert (await client.delete(f"/v1/communities/{a}/links/{link['id']}", headers=ana.headers)).status_code == 204
    assert (await client.get(f"/v1/communities/{a}/links", headers=ana.headers)).json() == []


async def test_slugs_held_by_the_old_unique_index_move_to_their_collection(database) -> None:  # type: ignore[no-untyped-def]
    """A database from before the `slugs` collection: start-up claims its slugs and
    drops the old index, and does it once."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(database.url, tz_aware=True)
    db = client[f"membership_slugs_{secrets.token_hex(4)}"]
    try:
        await db.communities.create_index("slug", unique=True, name="slug_unique")
        await db.communities.insert_many([{"_id": "c1", "slug": "falls"}, {"_id": "c2", "slug": "wounds"}])
        for _ in range(2):
            await Storage.on(db).create_indexes()
        assert await db.slugs.find().sort("_id").to_list() == [
            {"_id": "falls", "community_id": "c1"},
            {"_id": "wounds", "community_id": "c2"},
        ]
        assert "slug_unique" not in [i["name"] for i in await (await db.communities.list_indexes()).to_list()]
    finally:
        await client.drop_database(db.name)
        await client.close()
