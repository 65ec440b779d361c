"""Two replicas of the notifications service share one database and one durable
consumer: every endpoint gets every message exactly once (a lease on each
endpoint's queue keeps two replicas from sending to it at once)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from tests.support.api import create_community, join, new_person
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.testing import ServiceProcess

ENDPOINTS = 10
JOINERS = 6


async def test_two_replicas_deliver_each_message_once_per_endpoint(
    start_service: Any, web: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    run = secrets.token_hex(4)
    env = {
        "WEFT_NOTIFICATIONS_DATABASE": f"weft_notifications_replicas_{run}",
        "WEFT_NOTIFICATIONS_CONSUMER_NAME": f"notifications-replicas-{run}",
        # A consumer of its own that starts now: replaying the session's whole stream first is slow.
        "WEFT_NOTIFICATIONS_CONSUMER_START": "new",
        "WEFT_NOTIFICATIONS_WEBHOOK_POLL_INTERVAL_SECONDS": "0.05",
    }
    replicas: list[ServiceProcess] = [start_service("notifications", env), start_service("notifications", env)]
    ana = new_person("ana")
    community = await create_community(web, ana)
    async with httpx.AsyncClient(base_url=replicas[0].url, timeout=30) as first:
        base = f"/v1/communities/{community['id']}/webhooks"

        async def known() -> bool:
            return (await first.get(base, headers=ana.headers)).status_code == 200

        await eventually(known, what="the owner known to the replicas")
        secrets_by_name = {}
        for n in range(ENDPOINTS):
            body = {"url": receiver.url(f"/ok/replica-{n}"), "types": ["org.weft.member.joined.v1"]}
            created = await first.post(base, json=body, headers=ana.headers)
            assert created.status_code == 201, created.text
            secrets_by_name[f"replica-{n}"] = created.json()["secret"]

    joiners = [new_person(f"joiner{i}") for i in range(JOINERS)]
    for person in joiners:
        assert (await join(web, community["id"], person)).status_code in (200, 201)

    expected = [p.user_id for p in joiners]
    for name, secret in secrets_by_name.items():
        got = await eventually(lambda name=name: receiver.arrived(name, JOINERS), what=f"{name}'s deliveries")
        bodies = [Webhook(secret).verify(r.body, r.headers) for r in got]
        # Once each. In stream order as far as each replica recorded them: a message one replica
        # commits late can go after a later one (receivers order by `time` / `aggregateversion`).
        assert sorted(b["data"]["user_id"] for b in bodies) == sorted(expected), name
        assert len({r.headers["webhook-id"] for r in got}) == JOINERS
    for replica in replicas:
        assert replica.alive
    assert all(len(receiver.of(name)) == JOINERS for name in secrets_by_name)
