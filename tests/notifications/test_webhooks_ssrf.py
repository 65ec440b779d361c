"""SSRF: a host that resolves to a loopback address is refused when the webhook is
made and again when it is delivered to, unless the allowlist permits it. Each
check runs its own notifications process, with and without the allowlist (the
session's process allows 127.0.0.1 for the other tests' receivers)."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx

from tests.support.api import create_community, new_person, problem_fields
from tests.support.bus import stream_messages
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from weft_cli.testing import ServiceProcess


def notifications_env(run: str, admin: str, allowed: list[str]) -> dict[str, str]:
    return {
        "WEFT_NOTIFICATIONS_DATABASE": f"weft_notifications_ssrf_{run}",
        "WEFT_NOTIFICATIONS_CONSUMER_NAME": f"notifications-ssrf-{run}",
        # A consumer of its own that starts now: replaying the session's whole stream first is slow.
        "WEFT_NOTIFICATIONS_CONSUMER_START": "new",
        "WEFT_NOTIFICATIONS_ADMIN_SUBJECTS": json.dumps([admin]),
        "WEFT_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS": json.dumps(allowed),
        # Failing for about a second counts as "for days" here.
        "WEFT_NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_DAYS": str(1 / 86400),
    }


async def test_a_name_resolving_to_loopback_is_refused_at_create_and_at_delivery(
    start_service: Any, web: httpx.AsyncClient, receiver: WebhookReceiver, nats_server: Any
) -> None:
    run = secrets.token_hex(4)
    root, ana = new_person("root"), new_person("ana")
    url = receiver.url("/ok/rebound", host="localhost")  # localhost -> 127.0.0.1
    body = {"url": url, "types": ["org.weft.community.created.v1"], "enabled": False}

    allowing: ServiceProcess = start_service("notifications", notifications_env(run, root.user_id, ["127.0.0.1/32"]))
    async with httpx.AsyncClient(base_url=allowing.url, timeout=30) as direct:
        created = await direct.post("/v1/webhooks", json=body, headers=root.headers)
        assert created.status_code == 201, created.text
        hook = created.json()
    allowing.stop()

    # The same database and consumer without the allowlist: as if DNS now answered a loopback address.
    strict: ServiceProcess = start_service("notifications", notifications_env(run, root.user_id, []))
    async with httpx.AsyncClient(base_url=strict.url, timeout=30) as direct:
        refused = await direct.post("/v1/webhooks", json={**body, "enabled": True}, headers=root.headers)
        assert "url" in problem_fields(refused, 422)
        assert "localhost resolves to 127.0.0.1" in refused.json()["detail"]
        on = await direct.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=root.headers)
        assert on.status_code == 200, on.text

        community = await create_community(web, ana)

        async def refused_delivery() -> list[dict[str, Any]]:
            listed = await direct.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=root.headers)
            items: list[dict[str, Any]] = listed.json()["items"]
            return [i for i in items if i["attempts"] >= 1 and "loopback" in (i["error"] or "")]

        [delivery] = await eventually(refused_delivery, what="a refused delivery")
        assert delivery["response_code"] is None
        assert "localhost resolves to 127.0.0.1, which is a loopback address" in delivery["error"]

        # Failing "for days" (a second here): turned off, its maker told, the bus told.
        async def disabled() -> dict[str, Any] | None:
            shown: dict[str, Any] = (await direct.get(f"/v1/webhooks/{hook['id']}", headers=root.headers)).json()
            return shown if not shown["enabled"] else None

        shown = await eventually(disabled, what="the webhook disabled", timeout=30)
        assert shown["disabled_reason"] == "failing" and shown["failing_since"]
        items = (await direct.get("/v1/me/notifications", headers=root.headers)).json()["items"]
        assert [i["type"] for i in items] == ["webhook_disabled"]
    assert receiver.of("rebound") == []
    found = await stream_messages(nats_server.url, "weft.webhook.disabled.v1.network")
    assert hook["id"] in [m.body["data"]["webhook_id"] for m in found]
    assert community["id"]
