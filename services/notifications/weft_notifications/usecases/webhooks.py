"""Managing webhook subscriptions: a community's (its active owners) and the
network's (network admins). Someone who may not see a hidden community gets the
same 404 as for an unknown one; a webhook of another scope is a 404 too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from weft_notifications.domain import webhooks as rules
from weft_notifications.domain.address_policy import AddressPolicy, RefusedUrl
from weft_notifications.domain.webhook_signing import new_secret
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.webhook_addresses import checked_endpoint
from weft_notifications.webhook_schemas import (
    DeliveryPage,
    DeliveryView,
    WebhookChange,
    WebhookCreate,
    WebhookPage,
    WebhookView,
    WebhookWithSecret,
)
from weft_shared.auth import NetworkAdmins
from weft_shared.contracts.base import MESSAGE_TYPES
from weft_shared.contracts.envelope import Envelope, new_message_id
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.messaging.consumer import envelope_bytes
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.ids import new_id

Doc = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose webhooks: a community's, or the network's (`community_id` None)."""

    community_id: str | None

    @property
    def key(self) -> str:
        return self.community_id or rules.NETWORK_SCOPE

    @property
    def network(self) -> bool:
        return self.community_id is None


def address_policy(ctx: NotificationsContext) -> AddressPolicy:
    settings = ctx.settings
    return AddressPolicy.of(require_https=settings.platform.env != "dev", allowed=settings.webhook_allowed_networks)


def network_admins(ctx: NotificationsContext) -> NetworkAdmins:
    s = ctx.settings
    return NetworkAdmins.of(s.admin_roles_claim, s.admin_role, s.admin_subjects)


# -- who may manage which webhooks -------------------------------------------------------


async def community_scope(ctx: NotificationsContext, me: Person, community_id: str) -> Scope:
    community = await ctx.storage.view.community(community_id)
    if community is None:
        raise NotFound("no such community")
    active = await ctx.storage.view.is_active_member(community_id, me.id)
    if community.get("visibility") == "hidden" and not active:
        raise NotFound("no such community")
    if not active or me.id not in await ctx.storage.view.staff(community_id, ("owner",)):
        raise Forbidden("only the community's owners manage its webhooks")
    return Scope(community_id)


def network_scope(ctx: NotificationsContext, me: Person) -> Scope:
    if not network_admins(ctx).includes(me.principal):
        raise Forbidden("only network admins manage network webhooks")
    return Scope(None)


# -- views --------------------------------------------------------------------------------


def webhook_view(doc: Doc) -> WebhookView:
    return WebhookView(
        id=doc["_id"],
        community_id=None if doc["scope"] == rules.NETWORK_SCOPE else doc["scope"],
        url=doc["url"],
        types=doc["types"],
        description=doc["description"],
        enabled=doc["enabled"],
        disabled_reason=doc.get("disabled_reason"),
        failing_since=doc.get("failing_since"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def with_secret(doc: Doc) -> WebhookWithSecret:
    return WebhookWithSecret(
        **webhook_view(doc).model_dump(),
        secret=doc["secret"],
        previous_secret_valid_until=doc.get("previous_secret_until") if doc.get("previous_secret") else None,
    )


def delivery_view(doc: Doc) -> DeliveryView:
    return DeliveryView(
        id=doc["_id"],
        webhook_id=doc["webhook_id"],
        message_id=doc["message_id"],
        message_type=doc["message_type"],
        status=doc["status"],
        attempts=doc["attempts"],
        response_code=doc.get("response_code"),
        latency_ms=doc.get("latency_ms"),
        error=doc.get("error"),
        response_body=doc.get("response_body"),
        next_attempt_at=doc.get("next_attempt_at") if doc["status"] == "pending" else None,
        last_attempt_at=doc.get("last_attempt_at"),
        created_at=doc["created_at"],
    )


# -- checks on input ------------------------------------------------------------------------


def _unprocessable(field: str, message: str) -> Problem:
    return Problem(f"{field} {message}", status=422, errors=[{"field": field, "message": message}])


async def _check_url(ctx: NotificationsContext, url: str) -> None:
    try:
        await checked_endpoint(address_policy(ctx), url)
    except RefusedUrl as exc:
        raise _unprocessable("url", str(exc)) from exc


def _check_types(scope: Scope, patterns: list[str]) -> list[str]:
    unique = list(dict.fromkeys(patterns))
    receivable = rules.receivable_types(MESSAGE_TYPES, network=scope.network)
    nothing = rules.patterns_matching_nothing(unique, receivable)
    if nothing:
        raise _unprocessable(
            "types",
            f"match no message type this webhook can receive: {', '.join(nothing)} (types are CloudEvents "
            "types such as org.weft.member.joined.v1 or org.weft.event.*; /asyncapi.json lists them all)",
        )
    return unique


# -- use cases ---------------------------------------------------------------------------------


async def create(ctx: NotificationsContext, scope: Scope, me: Person, body: WebhookCreate) -> WebhookWithSecret:
    types = _check_types(scope, body.types)
    await _check_url(ctx, body.url)
    at = now()
    doc: Doc = {
        "_id": new_id(),
        "scope": scope.key,
        "url": body.url,
        "types": types,
        "description": body.description,
        "enabled": body.enabled,
        "disabled_reason": None,
        "failing_since": None,
        "secret": new_secret(),
        "previous_secret": None,
        "previous_secret_until": None,
        "created_by": me.id,
        "created_at": at,
        "updated_at": at,
    }

    async def work(_tx: object) -> None:
        await ctx.storage.webhooks.insert(doc)

    await ctx.uow.run(work)
    return with_secret(doc)


async def list_webhooks(ctx: NotificationsContext, scope: Scope, cursor: str | None, limit: int) -> WebhookPage:
    key = decode_cursor(cursor, {"id": str})
    docs = await ctx.storage.webhooks.page(scope.key, before=key["id"] if key else None, limit=limit + 1)
    page, next_cursor = split_page(docs, limit, lambda d: {"id": d["_id"]})
    return WebhookPage(items=[webhook_view(d) for d in page], next_cursor=next_cursor)


async def _subscription(ctx: NotificationsContext, scope: Scope, webhook_id: str) -> Doc:
    doc = await ctx.storage.webhooks.in_scope(scope.key, webhook_id)
    if doc is None:
        raise NotFound("no such webhook")
    return doc


async def get(ctx: NotificationsContext, scope: Scope, webhook_id: str) -> WebhookView:
    return webhook_view(await _subscription(ctx, scope, webhook_id))


async def change(ctx: NotificationsContext, scope: Scope, webhook_id: str, body: WebhookChange) -> WebhookView:
    await _subscription(ctx, scope, webhook_id)
    changes: Doc = {}
    if body.types is not None:
        changes["types"] = _check_types(scope, body.types)
    if body.url is not None:
        await _check_url(ctx, body.url)
        changes["url"] = body.url
    if body.description is not None:
        changes["description"] = body.description
    if body.enabled is not None:
        changes["enabled"] = body.enabled
        if body.enabled:  # turned back on: a fresh start, and what waited is sent
            changes["disabled_reason"] = None
            changes["failing_since"] = None
    at = now()
    changes["updated_at"] = at

    async def work(_tx: object) -> Doc | None:
        doc = await ctx.storage.webhooks.in_scope(scope.key, webhook_id)
        if doc is None:
            return None
        updated = await ctx.storage.webhooks.update(webhook_id, changes)
        if body.enabled:
            await ctx.storage.webhooks.make_due([webhook_id], at)
        return updated

    updated = await ctx.uow.run(work)
    if updated is None:
        raise NotFound("no such webhook")
    return webhook_view(updated)


async def delete(ctx: NotificationsContext, scope: Scope, webhook_id: str) -> None:
    async def work(_tx: object) -> bool:
        if await ctx.storage.webhooks.in_scope(scope.key, webhook_id) is None:
            return False
        await ctx.storage.webhooks.delete(webhook_id)
        return True

    if not await ctx.uow.run(work):
        raise NotFound("no such webhook")


async def rotate_secret(ctx: NotificationsContext, scope: Scope, webhook_id: str) -> WebhookWithSecret:
    """A new secret; the current one keeps signing beside it for the overlap period."""
    at = now()
    overlap = timedelta(hours=ctx.settings.webhook_secret_overlap_hours)

    async def work(_tx: object) -> Doc | None:
        doc = await ctx.storage.webhooks.in_scope(scope.key, webhook_id)
        if doc is None:
            return None
        return await ctx.storage.webhooks.update(
            webhook_id,
            {
                "secret": new_secret(),
                "previous_secret": doc["secret"],
                "previous_secret_until": at + overlap,
                "updated_at": at,
            },
        )

    doc = await ctx.uow.run(work)
    if doc is None:
        raise NotFound("no such webhook")
    return with_secret(doc)


async def list_deliveries(
    ctx: NotificationsContext, scope: Scope, webhook_id: str, cursor: str | None, limit: int
) -> DeliveryPage:
    await _subscription(ctx, scope, webhook_id)
    key = decode_cursor(cursor, {"id": str})
    docs = await ctx.storage.webhooks.delivery_page(webhook_id, before=key["id"] if key else None, limit=limit + 1)
    page, next_cursor = split_page(docs, limit, lambda d: {"id": d["_id"]})
    return DeliveryPage(items=[delivery_view(d) for d in page], next_cursor=next_cursor)


async def retry_delivery(ctx: NotificationsContext, scope: Scope, webhook_id: str, delivery_id: str) -> DeliveryView:
    """Send it again now, with the same `webhook-id` (it keeps its place: its message's order)."""
    at = now()

    async def work(_tx: object) -> Doc | None:
        if await ctx.storage.webhooks.in_scope(scope.key, webhook_id) is None:
            return None
        if await ctx.storage.webhooks.delivery(webhook_id, delivery_id) is None:
            return None
        updated = await ctx.storage.webhooks.update_delivery(
            delivery_id, {"status": "pending", "next_attempt_at": at, "finished_at": None}
        )
        await ctx.storage.webhooks.make_due([webhook_id], at)
        return updated

    doc = await ctx.uow.run(work)
    if doc is None:
        raise NotFound("no such delivery")
    return delivery_view(doc)


def test_ping(scope: Scope, webhook_id: str) -> Envelope:
    return Envelope(
        id=new_message_id(),
        source="/weft/notifications",
        type=rules.TEST_PING_TYPE,
        time=now(),
        subject=f"webhooks/{webhook_id}",
        communityid=scope.community_id,
        data={"webhook_id": webhook_id, "message": "A test ping from Weft: this endpoint receives its webhooks."},
    )


async def send_test(ctx: NotificationsContext, scope: Scope, webhook_id: str) -> DeliveryView:
    """A signed ping, delivered like the others (ahead of them: it belongs to no message order)."""
    envelope = test_ping(scope, webhook_id)
    at = now()
    delivery = new_delivery(webhook_id, envelope, seq=0, at=at)

    async def work(_tx: object) -> bool:
        if await ctx.storage.webhooks.in_scope(scope.key, webhook_id) is None:
            return False
        await ctx.storage.webhooks.record_due([delivery], at)
        return True

    if not await ctx.uow.run(work):
        raise NotFound("no such webhook")
    return delivery_view(delivery)


def new_delivery(webhook_id: str, envelope: Envelope, *, seq: int, at: Any, body: str | None = None) -> Doc:
    """`body`: the envelope's JSON, if already made (one message, many subscriptions)."""
    return {
        "_id": new_id(),
        "webhook_id": webhook_id,
        "seq": seq,
        "message_id": envelope.id,
        "message_type": envelope.type,
        "body": body if body is not None else envelope_bytes(envelope).decode(),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "last_attempt_at": None,
        "response_code": None,
        "latency_ms": None,
        "error": None,
        "created_at": at,
    }
