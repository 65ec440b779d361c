"""Sending an endpoint's deliveries, one at a time in the order of their messages,
by the replica that holds its queue's lease (jobs/webhook_delivery.py), and
recording each outcome: success; a retry on the schedule (domain/webhooks.py);
`failed` after the last one; 410 Gone, or failing for days, disables the endpoint,
tells its owners and announces `webhook.disabled`.

Sending happens outside any transaction (an HTTP call can take the whole timeout);
the outcome is written in one. A replica that dies mid-send leaves the delivery
pending, and once its lease lapses another sends it again with the same
`webhook-id` (at least once)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from weft_notifications.domain import webhooks as rules
from weft_notifications.domain.address_policy import RefusedUrl
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.domain.webhook_signing import signature_header
from weft_notifications.metrics import WebhookOutcome
from weft_notifications.storage.webhooks import IDLE
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify
from weft_notifications.usecases.webhook_addresses import checked_endpoint
from weft_notifications.usecases.webhook_http import Attempt, post
from weft_notifications.usecases.webhooks import address_policy
from weft_shared.contracts.envelope import CONTENT_TYPE
from weft_shared.contracts.notifications import WebhookDisabled, WebhookDisabledReason
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction

log = logging.getLogger("weft.webhooks")
Doc = dict[str, Any]
USER_AGENT = "Weft-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Sender:
    ctx: NotificationsContext
    client: aiohttp.ClientSession
    holder: str  # this replica's name on the leases it takes

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.ctx.settings.webhook_timeout_seconds + 30)


async def drain(sender: Sender, webhook_id: str, *, burst: int = 50) -> int:
    """Send what is due to one endpoint (whose lease `sender` has just taken), in order,
    up to `burst` deliveries, then hand the queue back with its next due time. A failed
    attempt stops the drain (the endpoint waits for that delivery's retry). Returns how
    many attempts were made."""
    ctx = sender.ctx
    store = ctx.storage.webhooks
    sent = 0
    lease_until = now() + sender.lease
    try:
        subscription = await store.get(webhook_id)
        while subscription is not None and subscription["enabled"] and sent < burst:
            # In order, up to the first that is not due yet (a retry holds back what follows it).
            pending = await store.pending(webhook_id, burst - sent)
            due = list(itertools.takewhile(lambda d: d["next_attempt_at"] <= now(), pending))
            if not due:
                break
            for delivery in due:
                if lease_until - now() < sender.lease / 2:
                    if not await store.renew(webhook_id, sender.holder, now() + sender.lease):
                        return sent  # the lease lapsed (we were too slow): its new holder carries on
                    lease_until = now() + sender.lease
                attempt = await _attempt(sender, subscription, delivery)
                subscription = await _record_outcome(ctx, subscription, delivery, attempt)
                sent += 1
                if not attempt.succeeded or subscription is None or not subscription["enabled"]:
                    break  # read the queue again: this one may now wait for its retry
    finally:
        await _release(ctx, webhook_id, sender.holder)
    return sent


async def _attempt(sender: Sender, subscription: Doc, delivery: Doc) -> Attempt:
    settings = sender.ctx.settings
    started = time.monotonic()
    try:
        checked = await checked_endpoint(address_policy(sender.ctx), subscription["url"])
    except RefusedUrl as exc:
        return Attempt(None, round((time.monotonic() - started) * 1000), f"url {exc}", "")
    body = delivery["body"].encode()
    timestamp = int(time.time())
    headers = {
        "content-type": CONTENT_TYPE,
        "user-agent": USER_AGENT,
        "webhook-id": delivery["message_id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            _secrets_in_use(subscription, now()), delivery["message_id"], timestamp, body
        ),
    }
    return await post(
        sender.client,
        checked,
        headers,
        body,
        timeout=settings.webhook_timeout_seconds,
        body_limit=settings.webhook_response_body_limit,
    )


def _secrets_in_use(subscription: Doc, at: datetime) -> list[str]:
    secrets = [subscription["secret"]]
    until = subscription.get("previous_secret_until")
    if subscription.get("previous_secret") and until is not None and until > at:
        secrets.append(subscription["previous_secret"])
    return secrets


async def _record_outcome(ctx: NotificationsContext, subscription: Doc, delivery: Doc, attempt: Attempt) -> Doc | None:
    """Write the attempt's outcome; returns the subscription as it now is (None: deleted)."""
    settings = ctx.settings
    at = now()
    attempts = delivery["attempts"] + 1
    outcome: Doc = {
        "attempts": attempts,
        "last_attempt_at": at,
        "response_code": attempt.status,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "response_body": attempt.body,
    }
    disable: WebhookDisabledReason | None = None
    failing_since = subscription.get("failing_since")
    if attempt.succeeded:
        outcome |= {"status": "succeeded", "finished_at": at}
    else:
        retry_at = (
            None
            if attempt.status == 410
            else rules.next_attempt_at(attempts, at, time_scale=settings.webhook_retry_time_scale)
        )
        if retry_at is None:
            outcome |= {"status": "failed", "finished_at": at}
        else:
            outcome |= {"next_attempt_at": retry_at}
        failing_since = failing_since or at
        if attempt.status == 410:
            disable = "gone"
        elif rules.failing_too_long(failing_since, at, timedelta(days=settings.webhook_disable_after_days)):
            disable = "failing"

    if ctx.metrics is not None:
        ctx.metrics.webhook_attempted(_outcome_of(attempt.succeeded, "finished_at" in outcome, disable))
    store = ctx.storage.webhooks
    if attempt.succeeded and subscription.get("failing_since") is None:
        # The common case: one write, no transaction (nothing else changes with it).
        await store.update_delivery(delivery["_id"], outcome)
        return subscription

    async def work(tx: Transaction) -> Doc | None:
        await store.update_delivery(delivery["_id"], outcome)
        current = await store.get(subscription["_id"])
        if current is None:
            return None  # deleted meanwhile
        if attempt.succeeded:
            return await store.update(current["_id"], {"failing_since": None})
        if disable is None or not current["enabled"]:
            if current.get("failing_since") is None:
                return await store.update(current["_id"], {"failing_since": failing_since})
            return current
        updated = await store.update(
            current["_id"],
            {"enabled": False, "disabled_reason": disable, "failing_since": failing_since, "updated_at": at},
        )
        await _announce_disabled(ctx, tx, current, disable, failing_since)
        return updated

    current = await ctx.uow.run(work)
    if disable is not None:
        log.warning("webhook %s disabled (%s): %s", subscription["_id"], disable, subscription["url"])
    return current


def _outcome_of(succeeded: bool, finished: bool, disable: WebhookDisabledReason | None) -> WebhookOutcome:
    if succeeded:
        return "delivered"
    if disable is not None:
        return "disabled"
    return "failed" if finished else "retried"


async def _announce_disabled(
    ctx: NotificationsContext, tx: Transaction, subscription: Doc, reason: WebhookDisabledReason, since: datetime | None
) -> None:
    community_id = None if subscription["scope"] == rules.NETWORK_SCOPE else subscription["scope"]
    tx.announce(
        WebhookDisabled(
            webhook_id=subscription["_id"],
            community_id=community_id,
            url=subscription["url"],
            reason=reason,
            failing_since=since.isoformat() if since else None,
        ),
        aggregate=f"webhooks/{subscription['_id']}",
        community_id=community_id,
    )
    why = (
        "it answered 410 Gone"
        if reason == "gone"
        else f"every delivery to it has failed since {since:%Y-%m-%d %H:%M} UTC"
        if since
        else "it kept failing"
    )
    target = {"webhook_id": subscription["_id"]} | ({"community_id": community_id} if community_id else {})
    notice = Notice(
        type=NotificationType.WEBHOOK_DISABLED,
        title="A webhook was turned off",
        text=f"Weft stopped sending to {subscription['url']}: {why}. Turn it back on once the endpoint works.",
        community_id=community_id,
        actor_id=None,
        target=target,
        key=f"webhook_disabled:{subscription['_id']}:{now().isoformat()}",
    )
    owners = await ctx.storage.view.staff(community_id, ("owner",)) if community_id else [subscription["created_by"]]
    await notify(ctx, notice, owners)


async def schedule_recorded(ctx: NotificationsContext, *, batch: int = 2000, at_once: int = 32) -> int:
    """Put recorded deliveries on their endpoints' queues: one small transaction per
    endpoint (two replicas doing it at once conflict on the same documents, and one
    retries to find nothing left). Returns how many were queued."""
    store = ctx.storage.webhooks
    recorded = await store.unscheduled(batch)
    by_endpoint: dict[str, list[str]] = {}
    for doc in recorded:
        by_endpoint.setdefault(doc["webhook_id"], []).append(doc["_id"])
    gate = asyncio.Semaphore(at_once)
    at = now()

    async def queue(webhook_id: str, delivery_ids: list[str]) -> None:
        async def work(_tx: object) -> None:
            await store.schedule(webhook_id, delivery_ids, at)

        async with gate:
            await ctx.uow.run(work)

    await asyncio.gather(*(queue(w, ids) for w, ids in by_endpoint.items()))
    return len(recorded)


async def _release(ctx: NotificationsContext, webhook_id: str, holder: str) -> None:
    """Hand the queue back, due when its head is (IDLE if none, or the endpoint is off).
    In a transaction with the read, so a delivery recorded meanwhile conflicts and is seen."""

    async def work(_tx: object) -> None:
        store = ctx.storage.webhooks
        if not await store.holds(webhook_id, holder):
            return  # the lease lapsed and another replica has it: it hands the queue back
        subscription = await store.get(webhook_id)
        head = await store.head(webhook_id)
        due = IDLE if subscription is None or not subscription["enabled"] or head is None else head["next_attempt_at"]
        await store.release(webhook_id, holder, due)

    await ctx.uow.run(work)
