"""Communities through the membership API, on real NATS and a real MongoDB-protocol server."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
from cloudevents.core.v1.event import CloudEvent

from tests.support.api import (
    create_community,
    join,
    new_person,
    problem,
    problem_fields,
)
from tests.support.bus import community_messages, types_of, wait_for_messages
from weft_shared.contracts.subjects import community_wildcard


async def test_create_makes_caller_owner_and_announces_it(client: httpx.AsyncClient, nats_url: str) -> None:
    ana = new_person("ana")
    created = await create_community(
        client,
        ana,
        name="Dementia Care Nurses",
        purpose="Share dementia care practice",
        tags=["Dementia", "nursing"],
    )
    assert created["my_role"] == "owner" and created["my_status"] == "active"
    assert created["tags"] == ["dementia", "nursing"]
    assert created["slug"].startswith("dementia-care-nurses")
    assert created["member_count"] == 1

    messages = await wait_for_messages(nats_url, community_wildcard("weft", created["id"]), at_least=2)
    assert types_of(messages) == [
        "org.weft.community.created.v1",
        "org.weft.member.joined.v1",
    ]
    created_msg, joined_msg = messages
    assert created_msg.subject == f"weft.community.created.v1.{created['id']}"
    assert created_msg.headers["Nats-Msg-Id"] == created_msg.body["id"]
    assert created_msg.body["data"]["community"]["name"] == "Dementia Care Nurses"
    assert joined_msg.body["data"] | {"display_name": None} == {
        "community_id": created["id"],
        "user_id": ana.user_id,
        "role": "owner",
        "via": "creation",
        "display_name": None,
        "community_visibility": "public",
    }
    # Conformance checked by the CloudEvents SDK, not by eye.
    for message in messages:
        attributes = {k: v for k, v in message.body.items() if k != "data"}
        attributes["time"] = datetime.fromisoformat(attributes["time"])
        event = CloudEvent(attributes, message.body["data"])
        assert event.get_specversion() == "1.0"
        assert event.get_source() == "/weft/membership"


async def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    ana = new_person("ana")
    cases = {
        "name": {"name": "", "purpose": "x"},
        "purpose": {"name": "Valid name", "purpose": "x" * 501},
        "visibility": {"name": "Valid name", "purpose": "x", "visibility": "secret"},
        "join_policy": {
            "name": "Valid name",
            "purpose": "x",
            "join_policy": "whenever",
        },
        "tags.0": {"name": "Valid name", "purpose": "x", "tags": ["!!"]},
        "slug": {"name": "Valid name", "purpose": "x", "slug": "Not A Slug"},
        "extra": {"name": "Valid name", "purpose": "x", "extra": 1},
    }
    for field, body in cases.items():
        response = await client.post("/v1/communities", json=body, headers=ana.headers)
        assert field in problem_fields(response, 422), (field, response.text)
    # Operator injection: an object where a string is expected is refused, not queried.
    injected = await client.post(
        "/v1/communities",
        json={"name": {"$ne": None}, "purpose": "x"},
        headers=ana.headers,
    )
    assert problem_fields(injected, 422) == {"name"}
    injected_q = await client.get("/v1/communities", params={"q": '{"$ne": null}'}, headers=ana.headers)
    assert injected_q.status_code == 200
    not_json = await client.post(
        "/v1/communities",
        content=b"{not json",
        headers={**ana.headers, "content-type": "application/json"},
    )
    problem(not_json, 422)
    me = (await client.get("/v1/me", headers=ana.headers)).json()
    assert me["communities"] == []


async def test_tokens_are_required_and_checked(client: httpx.AsyncClient) -> None:
    problem(await client.get("/v1/communities"), 401)
    problem(
        await client.get("/v1/communities", headers={"Authorization": "Bearer not.a.jwt"}),
        401,
    )
    forged = new_person().headers["Authorization"][:-4] + "AAAA"
    problem(await client.get("/v1/communities", headers={"Authorization": forged}), 401)
    from tests.support.api import token_for

    expired = token_for(new_person(), ttl_seconds=-10)
    body = problem(
        await client.get("/v1/communities", headers={"Authorization": f"Bearer {expired}"}),
        401,
    )
    assert "expired" in body["detail"]


async def test_directory_shows_what_the_caller_may_see(
    client: httpx.AsyncClient,
) -> None:
    owner, outsider = new_person("owner"), new_person("outsider")
    tag = f"t{new_person().user_id[-8:]}"
    public = await create_community(client, owner, name="Wound Care Public", visibility="public", tags=[tag])
    private = await create_community(client, owner, name="Wound Care Private", visibility="private", tags=[tag])
    hidden = await create_community(client, owner, name="Wound Care Hidden", visibility="hidden", tags=[tag])

    async def listed(person: object, **params: str) -> set[str]:
        response = await client.get("/v1/communities", params={"tag": tag, **params}, headers=person.headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        return {c["id"] for c in response.json()["items"]}

    assert await listed(outsider) == {public["id"], private["id"]}
    assert await listed(owner) == {public["id"], private["id"], hidden["id"]}
    assert await listed(outsider, q="wou") == {public["id"], private["id"]}
    assert await listed(outsider, q="woun publ") == {public["id"]}
    assert await listed(outsider, q="nothing-like-this") == set()

    # Private: listed, but details only for members; hidden: 404 to outsiders.
    summary = (await client.get(f"/v1/communities/{private['id']}", headers=outsider.headers)).json()
    assert summary["name"] == "Wound Care Private" and summary["description"] is None
    assert summary["member_count"] is None
    problem(
        await client.get(f"/v1/communities/{hidden['id']}", headers=outsider.headers),
        404,
    )
    problem(
        await client.get("/v1/communities/000000000000000000000000", headers=outsider.headers),
        404,
    )


async def test_directory_pages_with_cursors(client: httpx.AsyncClient) -> None:
    owner = new_person("owner")
    tag = f"p{new_person().user_id[-8:]}"
    ids = {(await create_community(client, owner, tags=[tag]))["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"tag": tag, "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/communities", params=params, headers=owner.headers)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    for bad in ["!!!", "eyJub3QiOiJpdCJ9", "a" * 600]:
        response = await client.get("/v1/communities", params={"cursor": bad}, headers=owner.headers)
        assert response.status_code in (400, 422)
        assert "cursor" in problem_fields(response, response.status_code)
    assert "limit" in problem_fields(await client.get("/v1/communities?limit=0", headers=owner.headers), 422)


async def test_update_needs_staff_and_announces_what_changed(client: httpx.AsyncClient, nats_url: str) -> None:
    owner, member = new_person("owner"), new_person("member")
    community = await create_community(client, owner)
    cid = community["id"]
    assert (await join(client, cid, member)).status_code == 201

    problem(
        await client.patch(
            f"/v1/communities/{cid}",
            json={"name": "Taken over"},
            headers=member.headers,
        ),
        403,
    )
    assert problem_fields(
        await client.patch(f"/v1/communities/{cid}", json={}, headers=owner.headers),
        422,
    )
    fields = problem_fields(
        await client.patch(
            f"/v1/communities/{cid}",
            json={"visibility": "everyone"},
            headers=owner.headers,
        ),
        422,
    )
    assert fields == {"visibility"}
    nulled = await client.patch(f"/v1/communities/{cid}", json={"name": None}, headers=owner.headers)
    assert problem_fields(nulled, 422) == {"name"}

    response = await client.patch(
        f"/v1/communities/{cid}",
        json={"name": "Renamed circle", "visibility": "private"},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed circle"

    messages = await community_messages(nats_url, cid)
    updates = [m for m in messages if m.type == "org.weft.community.updated.v1"]
    assert len(updates) == 1
    assert updates[0].body["data"]["changed"] == ["name", "visibility"]
    assert updates[0].body["data"]["community"]["visibility"] == "private"


async def test_archive_is_owner_only_and_makes_the_community_read_only(
    client: httpx.AsyncClient,
) -> None:
    owner, facilitator, newcomer = (
        new_person("owner"),
        new_person("fac"),
        new_person("new"),
    )
    cid = (await create_community(client, owner))["id"]
    await join(client, cid, facilitator)
    await client.patch(
        f"/v1/communities/{cid}/members/{facilitator.user_id}",
        json={"role": "facilitator"},
        headers=owner.headers,
    )

    problem(
        await client.post(f"/v1/communities/{cid}/archive", headers=facilitator.headers),
        403,
    )
    archived = await client.post(f"/v1/communities/{cid}/archive", headers=owner.headers)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    again = await client.post(f"/v1/communities/{cid}/archive", headers=owner.headers)
    assert again.status_code == 200

    problem(await join(client, cid, newcomer), 409)
    problem(
        await client.patch(f"/v1/communities/{cid}", json={"name": "New name"}, headers=owner.headers),
        409,
    )
    assert (await client.get(f"/v1/communities/{cid}", headers=newcomer.headers)).status_code == 200


async def test_control_characters_are_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    """A newline in a name broke every calendar of the community; a NUL was stored."""
    ana = new_person("ana")
    base = {"name": "Valid name", "purpose": "Share practice"}
    cases = {
        "name": {**base, "name": "Wound\ncare"},
        "name ": {**base, "name": "Wound care\x00"},
        "name  ": {**base, "name": "Wound\tcare"},
        "purpose": {**base, "purpose": "Share\x00practice"},
        "description": {**base, "description": "One\x1b[31mred"},
        "tags.0": {**base, "tags": ["falls\x00"]},
        "slug": {**base, "slug": "falls\n"},
        "code_of_conduct": {**base, "code_of_conduct": "Be kind\x07"},
    }
    for label, body in cases.items():
        response = await client.post("/v1/communities", json=body, headers=ana.headers)
        assert problem_fields(response, 422) == {label.strip()}, (label, response.text)
    me = (await client.get("/v1/me", headers=ana.headers)).json()
    assert me["communities"] == []  # nothing stored
    # Prose keeps its lines and tabs; CRLF is read as LF.
    created = await create_community(
        client, ana, purpose="Share practice\nand cases", description="Line one\r\n\tLine two"
    )
    assert created["purpose"] == "Share practice\nand cases" and created["description"] == "Line one\n\tLine two"
    renamed = await client.patch(f"/v1/communities/{created['id']}", json={"name": "Bad\r\nname"}, headers=ana.headers)
    assert problem_fields(renamed, 422) == {"name"}
    for profile, field in (
        ({"display_name": "Ana\nSilva"}, "display_name"),
        ({"organisation": "NHS\x00"}, "organisation"),
        ({"expertise": ["falls\n"]}, "expertise.0"),
        ({"bio": "hello\x00"}, "bio"),
    ):
        response = await client.put("/v1/me/profile", json=profile, headers=ana.headers)
        assert problem_fields(response, 422) == {field}, (field, response.text)
    invite = await client.post(
        f"/v1/communities/{created['id']}/invitations", json={"email": "ben\x00@example.org"}, headers=ana.headers
    )
    assert problem_fields(invite, 422) == {"email"}


async def test_the_directory_shows_member_counts_where_details_are_shown(client: httpx.AsyncClient) -> None:
    owner, ben, outsider = new_person("owner"), new_person("ben"), new_person("outsider")
    tag = f"m{new_person().user_id[-8:]}"
    public = await create_community(client, owner, name="Counted Public", tags=[tag])
    private = await create_community(client, owner, name="Counted Private", visibility="private", tags=[tag])
    assert (await join(client, public["id"], ben)).status_code == 201

    async def counts(person: object) -> dict[str, int | None]:
        response = await client.get("/v1/communities", params={"tag": tag}, headers=person.headers)  # type: ignore[attr-defined]
        assert response.status_code == 200, response.text
        return {c["name"]: c["member_count"] for c in response.json()["items"]}

    assert await counts(owner) == {"Counted Public": 2, "Counted Private": 1}
    # Outsiders see the public community's count, not the private one's (as on its own page).
    assert await counts(outsider) == {"Counted Public": 2, "Counted Private": None}
    page = (await client.get(f"/v1/communities/{public['id']}", headers=outsider.headers)).json()
    assert page["member_count"] == 2
    assert (await client.get(f"/v1/communities/{private['id']}", headers=outsider.headers)).json()[
        "member_count"
    ] is None


async def test_a_create_response_equals_a_later_read(client: httpx.AsyncClient) -> None:
    """Times the service makes are millisecond-precise (what BSON keeps), so what a
    create answers is what every later read says, byte for byte."""
    ana = new_person("ana")
    response = await client.post(
        "/v1/communities",
        json={"name": "Precise times", "purpose": "x", "code_of_conduct": "Be kind"},
        headers=ana.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    read = await client.get(f"/v1/communities/{created['id']}", headers=ana.headers)
    assert read.json() == created
    stamp = re.compile(rb'"(created_at|published_at)":"([^"]+)"')
    assert len(stamp.findall(response.content)) == 2
    assert stamp.findall(read.content) == stamp.findall(response.content)


async def test_a_search_with_nothing_to_search_for_is_a_422_naming_q(client: httpx.AsyncClient) -> None:
    """`q=.*` answered every community: cleaning it left no term, and no term meant no filter."""
    ana = new_person("ana")
    await create_community(client, ana, name="Punctuation Searchers")
    for q in (".*", "\x00", "\\d", "!!!", "a"):
        response = await client.get("/v1/communities", params={"q": q}, headers=ana.headers)
        assert problem_fields(response, 422) == {"q"}, (q, response.text)
    people = await client.get("/v1/people", params={"q": ".*"}, headers=ana.headers)
    assert problem_fields(people, 422) == {"q"}
    # A blank box is no search at all, and a real word still finds.
    assert (await client.get("/v1/communities", params={"q": " "}, headers=ana.headers)).status_code == 200
    found = (await client.get("/v1/communities", params={"q": "punctuation."}, headers=ana.headers)).json()
    assert [c["name"] for c in found["items"]] == ["Punctuation Searchers"]


async def test_a_boolean_is_not_a_code_of_conduct_version(client: httpx.AsyncClient) -> None:
    owner, gus = new_person("owner"), new_person("gus")
    cid = (await create_community(client, owner, code_of_conduct="Be kind."))["id"]
    for sent in (False, True, "1", 1.0):
        refused = await join(client, cid, gus, accept_code_of_conduct_version=sent)
        assert problem_fields(refused, 422) == {"accept_code_of_conduct_version"}, (sent, refused.text)
    assert (await join(client, cid, gus, accept_code_of_conduct_version=1)).status_code == 201
