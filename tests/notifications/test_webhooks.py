"""Webhooks through the gateway: real endpoints (tests/support/webhook_receiver.py) get
signed CloudEvents, checked with the `standardwebhooks` library, not with our code."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import nats
import pytest
from standardwebhooks.webhooks import Webhook

from tests.notifications.inboxes import told
from tests.support.api import Person, create_community, join, new_person, problem, problem_fields
from tests.support.bus import stream_messages
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Received, WebhookReceiver

ENDPOINTS = 100  # on one community: one message makes 100 deliveries, a redelivery none


async def owned_community(web: httpx.AsyncClient, owner: Person, **fields: Any) -> dict[str, Any]:
    """A community whose owner the notifications service already knows (its read model is fed by the bus)."""
    community = await create_community(web, owner, **fields)

    async def known() -> bool:
        listed = await web.get(f"/v1/communities/{community['id']}/webhooks", headers=owner.headers)
        return listed.status_code == 200

    await eventually(known, what="the owner known to notifications")
    return community


async def subscribe(
    web: httpx.AsyncClient, owner: Person, community_id: str, url: str, types: list[str] | None = None
) -> dict[str, Any]:
    response = await web.post(
        f"/v1/communities/{community_id}/webhooks",
        json={"url": url, "types": types or ["org.weft.member.*"], "description": "test endpoint"},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def verified(secret: str, received: Received) -> dict[str, Any]:
    """The body, once the standardwebhooks library has accepted its signature."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


async def deliveries(web: httpx.AsyncClient, owner: Person, community_id: str, webhook_id: str) -> list[dict[str, Any]]:
    response = await web.get(f"/v1/communities/{community_id}/webhooks/{webhook_id}/deliveries", headers=owner.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_community_endpoint_gets_nothing_naming_a_hidden_community(
    web: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    """Its owners may not know the hidden community: a link it proposes (and an event of
    theirs it co-hosts) would give them its id; the API shows them neither."""
    ana, dan, eve = new_person("ana"), new_person("dan"), new_person("eve")
    hidden = await create_community(web, ana, visibility="hidden", name="Quiet Room")
    door = await owned_community(web, dan, name="Open Door")
    hook = await subscribe(web, dan, door["id"], receiver.url("/ok/door"), types=["*"])
    proposed = await web.post(
        f"/v1/communities/{hidden['id']}/links", json={"to_community_id": door["id"]}, headers=ana.headers
    )
    assert proposed.status_code == 201, proposed.text
    assert (await join(web, door["id"], eve)).status_code in (200, 201)  # published after the proposal

    await told(web, dan, "link_proposed")  # the proposal was handled (its deliveries recorded with it)
    [got] = await eventually(lambda: receiver.arrived("door"), what="the member.joined delivery")
    assert verified(hook["secret"], got)["type"] == "org.weft.member.joined.v1"
    types = [verified(hook["secret"], r)["type"] for r in receiver.of("door")]
    assert "org.weft.link.proposed.v1" not in types
    assert all(hidden["id"].encode() not in r.body for r in receiver.of("door"))


async def test_a_member_joining_reaches_the_endpoint_signed(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await owned_community(web, ana)
    hook = await subscribe(web, ana, community["id"], receiver.url("/ok/joined"))
    assert hook["secret"].startswith("whsec_") and hook["enabled"] is True
    assert hook["community_id"] == community["id"] and hook["types"] == ["org.weft.member.*"]

    assert (await join(web, community["id"], ben)).status_code in (200, 201)
    [got] = await eventually(lambda: receiver.arrived("joined"), what="the webhook")
    envelope = verified(hook["secret"], got)
    assert envelope["type"] == "org.weft.member.joined.v1"
    assert envelope["data"]["user_id"] == ben.user_id and envelope["communityid"] == community["id"]
    assert got.headers["webhook-id"] == envelope["id"]
    assert got.headers["content-type"] == "application/cloudevents+json"

    [logged] = await eventually(
        lambda: _finished(deliveries(web, ana, community["id"], hook["id"])), what="the delivery log"
    )
    assert logged["status"] == "succeeded" and logged["response_code"] == 200 and logged["attempts"] == 1
    assert logged["message_id"] == envelope["id"] and logged["message_type"] == "org.weft.member.joined.v1"
    assert logged["latency_ms"] is not None and logged["next_attempt_at"] is None
    assert logged["response_body"] == "thanks"

    # The secret was shown once.
    shown = await web.get(f"/v1/communities/{community['id']}/webhooks/{hook['id']}", headers=ana.headers)
    assert shown.status_code == 200 and "secret" not in shown.json()


async def _finished(listing: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = await listing
    return items if items and all(i["status"] != "pending" for i in items) else []


async def test_a_redelivered_message_makes_one_delivery_per_endpoint(
    web: httpx.AsyncClient, receiver: WebhookReceiver, nats_server: Any
) -> None:
    ana, ben, cai = new_person("ana"), new_person("ben"), new_person("cai")
    community = await owned_community(web, ana)
    gate = asyncio.Semaphore(8)

    async def endpoint(i: int) -> dict[str, Any]:
        async with gate:
            return await subscribe(web, ana, community["id"], receiver.url(f"/ok/endpoint-{i}"))

    hooks = await asyncio.gather(*(endpoint(i) for i in range(ENDPOINTS)))

    assert (await join(web, community["id"], ben)).status_code in (200, 201)
    for i in range(ENDPOINTS):
        await eventually(lambda i=i: receiver.arrived(f"endpoint-{i}"), what=f"endpoint {i}")
    # Deliver ben's member.joined again (a new stream message, the same envelope), then cai's.
    [joined] = [
        m
        for m in await stream_messages(nats_server.url, f"weft.member.joined.v1.{community['id']}")
        if m.body["data"]["user_id"] == ben.user_id
    ]
    nc = await nats.connect(nats_server.url)
    try:
        await nc.jetstream().publish(joined.subject, joined.raw)
    finally:
        await nc.close()
    assert (await join(web, community["id"], cai)).status_code in (200, 201)

    for i, hook in enumerate(hooks):
        got = await eventually(lambda i=i: receiver.arrived(f"endpoint-{i}", 2))
        # In message order, and ben's only once: cai's joining came after the redelivery.
        users = [verified(hook["secret"], r)["data"]["user_id"] for r in got]
        assert users == [ben.user_id, cai.user_id], users
    for hook in hooks[:5]:  # the log too (a few: the gateway rate-limits one caller)
        assert len(await deliveries(web, ana, community["id"], hook["id"])) == 2


async def test_a_failed_delivery_is_retried_with_the_same_webhook_id(
    web: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await owned_community(web, ana)
    hook = await subscribe(web, ana, community["id"], receiver.url("/flaky/1/flaky"))
    assert (await join(web, community["id"], ben)).status_code in (200, 201)

    first, second = await eventually(lambda: receiver.arrived("flaky", 2))
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verified(hook["secret"], first) == verified(hook["secret"], second)
    [logged] = await eventually(lambda: _finished(deliveries(web, ana, community["id"], hook["id"])))
    assert logged["status"] == "succeeded" and logged["attempts"] == 2 and logged["response_code"] == 200


async def test_410_gone_disables_the_endpoint_and_tells_its_owner(
    web: httpx.AsyncClient, receiver: WebhookReceiver, nats_server: Any
) -> None:
    ana, ben, cai = new_person("ana"), new_person("ben"), new_person("cai")
    community = await owned_community(web, ana)
    hook = await subscribe(web, ana, community["id"], receiver.url("/status/410/gone"))
    assert (await join(web, community["id"], ben)).status_code in (200, 201)

    async def disabled() -> dict[str, Any] | None:
        shown = await web.get(f"/v1/communities/{community['id']}/webhooks/{hook['id']}", headers=ana.headers)
        body: dict[str, Any] = shown.json()
        return body if body["enabled"] is False else None

    view = await eventually(disabled, what="the endpoint disabled")
    assert view["disabled_reason"] == "gone"
    [logged] = await deliveries(web, ana, community["id"], hook["id"])
    assert logged["status"] == "failed" and logged["response_code"] == 410

    async def told() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await web.get("/v1/me/notifications", headers=ana.headers)).json()["items"]
        return [i for i in items if i["type"] == "webhook_disabled"]

    [notice] = await eventually(told, what="the owner's notice")
    assert notice["target"] == {"webhook_id": hook["id"], "community_id": community["id"]}
    [message] = await eventually(
        lambda: stream_messages(nats_server.url, f"weft.webhook.disabled.v1.{community['id']}"), what="the message"
    )
    assert message.body["data"]["webhook_id"] == hook["id"] and message.body["data"]["reason"] == "gone"

    # Nothing more is sent to it.
    assert (await join(web, community["id"], cai)).status_code in (200, 201)
    await eventually(lambda: _member_known(web, ana, community["id"], cai))
    assert len(receiver.of("gone")) == 1


async def _member_known(web: httpx.AsyncClient, owner: Person, community_id: str, person: Person) -> bool:
    members = await web.get(f"/v1/communities/{community_id}/members", headers=owner.headers)
    return person.user_id in members.text


async def test_a_hanging_endpoint_does_not_hold_back_another(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await owned_community(web, ana)
    await subscribe(web, ana, community["id"], receiver.url("/hang/slow"))
    await subscribe(web, ana, community["id"], receiver.url("/ok/quick"))
    assert (await join(web, community["id"], ben)).status_code in (200, 201)

    # The quick endpoint got its delivery while the slow one's request was still open.
    await eventually(lambda: _both(receiver), what="the quick delivery during the slow one")
    receiver.release_hanging()


async def _both(receiver: WebhookReceiver) -> bool:
    return bool(receiver.of("quick")) and "slow" in receiver.hanging


async def test_redirects_are_not_followed(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    community = await owned_community(web, ana)
    hook = await subscribe(web, ana, community["id"], receiver.url("/redirect/moved"))
    assert (await join(web, community["id"], ben)).status_code in (200, 201)

    async def answered() -> list[dict[str, Any]]:
        items = await deliveries(web, ana, community["id"], hook["id"])
        return [i for i in items if i["response_code"] == 302]

    [logged] = await eventually(answered, what="the 302 in the log")
    assert logged["status"] == "pending" and logged["next_attempt_at"] is not None  # a failure, to be retried
    assert receiver.of("moved-redirected") == []


async def test_a_test_ping_and_a_rotated_secret(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana = new_person("ana")
    community = await owned_community(web, ana)
    hook = await subscribe(web, ana, community["id"], receiver.url("/ok/ping"))
    base = f"/v1/communities/{community['id']}/webhooks/{hook['id']}"

    sent = await web.post(f"{base}/test", headers=ana.headers)
    assert sent.status_code == 202, sent.text
    [ping] = await eventually(lambda: receiver.arrived("ping"), what="the ping")
    envelope = verified(hook["secret"], ping)
    assert envelope["type"] == "org.weft.webhook.test.v1" and envelope["data"]["webhook_id"] == hook["id"]
    assert sent.json()["message_id"] == envelope["id"]

    rotated = await web.post(f"{base}/rotate-secret", headers=ana.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"] and rotated.json()["previous_secret_valid_until"]
    assert (await web.post(f"{base}/test", headers=ana.headers)).status_code == 202
    _, after = await eventually(lambda: receiver.arrived("ping", 2))
    assert len(after.headers["webhook-signature"].split(" ")) == 2  # signed with both during the overlap
    assert verified(new_secret, after) == verified(hook["secret"], after)

    # Manual redelivery: the same webhook-id again.
    retried = await web.post(f"{base}/deliveries/{sent.json()['id']}/retry", headers=ana.headers)
    assert retried.status_code == 202, retried.text
    third = (await eventually(lambda: receiver.arrived("ping", 3)))[2]
    assert third.headers["webhook-id"] == envelope["id"]


async def test_managing_a_webhook(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana = new_person("ana")
    community = await owned_community(web, ana)
    base = f"/v1/communities/{community['id']}/webhooks"
    hooks = [await subscribe(web, ana, community["id"], receiver.url(f"/ok/m{i}")) for i in range(3)]

    first = await web.get(base, params={"limit": 2}, headers=ana.headers)
    assert first.status_code == 200, first.text
    second = await web.get(base, params={"cursor": first.json()["next_cursor"]}, headers=ana.headers)
    listed = [h["id"] for h in first.json()["items"] + second.json()["items"]]
    assert listed == [h["id"] for h in reversed(hooks)] and second.json()["next_cursor"] is None

    changed = await web.patch(
        f"{base}/{hooks[0]['id']}",
        json={"types": ["org.weft.event.scheduled.v1", "org.weft.member.*"], "enabled": False, "description": "x"},
        headers=ana.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False and changed.json()["description"] == "x"
    assert changed.json()["types"] == ["org.weft.event.scheduled.v1", "org.weft.member.*"]

    assert (await web.delete(f"{base}/{hooks[0]['id']}", headers=ana.headers)).status_code == 204
    problem(await web.get(f"{base}/{hooks[0]['id']}", headers=ana.headers), 404)
    problem(await web.delete(f"{base}/{hooks[0]['id']}", headers=ana.headers), 404)


async def test_only_owners_manage_webhooks(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    ana, ben, eve = new_person("ana"), new_person("ben"), new_person("eve")
    community = await owned_community(web, ana)
    other = await owned_community(web, eve)
    hook = await subscribe(web, ana, community["id"], receiver.url("/ok/owned"))
    assert (await join(web, community["id"], ben)).status_code in (200, 201)
    await eventually(lambda: _member_known(web, ana, community["id"], ben))
    base = f"/v1/communities/{community['id']}/webhooks"
    body = {"url": receiver.url("/ok/x"), "types": ["*"]}

    async def member_refused() -> bool:
        return (await web.get(base, headers=ben.headers)).status_code == 403

    await eventually(member_refused, what="ben known as a member")
    for person in (ben, eve):  # a member, and someone from outside (the community is public)
        problem(await web.post(base, json=body, headers=person.headers), 403)
        problem(await web.get(f"{base}/{hook['id']}", headers=person.headers), 403)
        problem(await web.patch(f"{base}/{hook['id']}", json={"enabled": False}, headers=person.headers), 403)
        problem(await web.delete(f"{base}/{hook['id']}", headers=person.headers), 403)
    # Another community's owner can't reach it through their own community: the same 404 as an unknown id.
    other_base = f"/v1/communities/{other['id']}/webhooks"
    problem(await web.get(f"{other_base}/{hook['id']}", headers=eve.headers), 404)
    problem(await web.get(f"{other_base}/nothing-like-it", headers=eve.headers), 404)
    problem(await web.post(f"{other_base}/{hook['id']}/test", headers=eve.headers), 404)
    problem(await web.get(f"{base}/{hook['id']}/deliveries/nope/retry", headers=ana.headers), 405)
    problem(await web.post(f"{base}/{hook['id']}/deliveries/nope/retry", headers=ana.headers), 404)
    problem(await web.get("/v1/communities/no-such-community/webhooks", headers=ana.headers), 404)
    assert (await web.get(f"{base}/{hook['id']}", headers=ana.headers)).json()["enabled"] is True


async def test_a_hidden_community_is_not_found_by_outsiders(web: httpx.AsyncClient) -> None:
    ana, eve = new_person("ana"), new_person("eve")
    community = await owned_community(web, ana, visibility="hidden")
    problem(await web.get(f"/v1/communities/{community['id']}/webhooks", headers=eve.headers), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"types": ["org.weft.nothing.*"]}, "types"),
        ({"types": ["org.weft.member.joined.v2"]}, "types"),
        ({"types": []}, "types"),
        ({"types": ["org.weft.Member.*"]}, "types.0"),
        ({"types": [{"$ne": None}]}, "types.0"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://127.0.0.1/" + "a" * 2048}, "url"),
        ({"url": "http://10.0.0.7/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"url": "http://[::1]:8080/hook"}, "url"),
        ({"url": "http://0.0.0.0/hook"}, "url"),
        ({"url": "http://[::ffff:10.0.0.1]/hook"}, "url"),
        ({"url": "http://224.0.0.1/hook"}, "url"),
        ({"url": "http://no-such-host.invalid/hook"}, "url"),
        ({"url": "http://user:pass@127.0.0.1/hook"}, "url"),  # credentials would show in lists and notices
        ({"url": "http://127.0.0.1/\u202ekoob"}, "url"),  # a right-to-left override makes a shown URL lie
        ({"enabled": "yes"}, "enabled"),
        ({"secret": "mine"}, "secret"),
    ],
)
async def test_bad_webhooks_are_refused(
    web: httpx.AsyncClient, receiver: WebhookReceiver, body: dict[str, Any], field: str
) -> None:
    ana = new_person("ana")
    community = await owned_community(web, ana)
    base = f"/v1/communities/{community['id']}/webhooks"
    sent = {"url": receiver.url("/ok/bad"), "types": ["org.weft.member.*"], **body}
    assert field in problem_fields(await web.post(base, json=sent, headers=ana.headers), 422)
    assert (await web.get(base, headers=ana.headers)).json()["items"] == []


def admin(label: str = "admin") -> tuple[Person, dict[str, str]]:
    from tests.support.api import _DEV
    from weft_shared.auth import issue_dev_token

    person = new_person(label)
    token = issue_dev_token(_DEV, person.user_id, email=person.email, claims={"roles": ["weft-admin"]})
    return person, {"Authorization": f"Bearer {token}"}


async def test_network_admins_subscribe_to_every_community(web: httpx.AsyncClient, receiver: WebhookReceiver) -> None:
    _root, headers = admin()
    ana, ben = new_person("ana"), new_person("ben")
    body = {"url": receiver.url("/ok/network"), "types": ["*"]}
    problem(await web.post("/v1/webhooks", json=body, headers=ana.headers), 403)
    problem(await web.get("/v1/webhooks", headers=ana.headers), 403)
    # Personal data never goes to network endpoints: a pattern that names only that matches nothing.
    assert "types" in problem_fields(
        await web.post("/v1/webhooks", json={**body, "types": ["org.weft.profile.*"]}, headers=headers), 422
    )
    created = await web.post("/v1/webhooks", json=body, headers=headers)
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["community_id"] is None
    problem(await web.get(f"/v1/webhooks/{hook['id']}", headers=ana.headers), 403)
    try:
        profiled = await web.put("/v1/me/profile", json={"bio": "Falls clinic lead"}, headers=ben.headers)
        assert profiled.status_code == 200, profiled.text
        community = await create_community(web, ana)
        assert (await join(web, community["id"], ben)).status_code in (200, 201)

        async def bens() -> list[dict[str, Any]]:
            bodies = [verified(hook["secret"], r) for r in receiver.of("network")]
            return [
                b for b in bodies if b["type"] == "org.weft.member.joined.v1" and b["data"]["user_id"] == ben.user_id
            ]

        [got] = await eventually(bens, what="ben's joining at the network endpoint")
        assert got["communityid"] == community["id"]
        # In message order, so ben's profile update (before it) would have arrived by now: it never does.
        types = {verified(hook["secret"], r)["type"] for r in receiver.of("network")}
        assert "org.weft.community.created.v1" in types and not any(t.startswith("org.weft.profile.") for t in types)
        listed = await web.get("/v1/webhooks", headers=headers)
        assert hook["id"] in [h["id"] for h in listed.json()["items"]]
        assert (await web.get(f"/v1/webhooks/{hook['id']}", headers=headers)).json()["id"] == hook["id"]
    finally:  # it receives everything: leave nothing sending to a receiver that is gone
        assert (await web.delete(f"/v1/webhooks/{hook['id']}", headers=headers)).status_code == 204
