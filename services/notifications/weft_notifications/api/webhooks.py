"""Webhook subscriptions: a community's (`/v1/communities/{id}/webhooks`, its owners)
and the network's (`/v1/webhooks`, network admins). Same operations on both."""

# No `from __future__ import annotations`: the routes are defined in a function, and FastAPI
# resolves string annotations in the module's globals, where `ScopeDep` (a local) isn't.

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from weft_notifications.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit
from weft_notifications.usecases import webhooks
from weft_notifications.usecases.webhooks import Scope
from weft_notifications.webhook_schemas import (
    DeliveryPage,
    DeliveryView,
    WebhookChange,
    WebhookCreate,
    WebhookPage,
    WebhookView,
    WebhookWithSecret,
)
from weft_shared.errors import problem_responses

WebhookId = Annotated[str, Path(min_length=1, max_length=64)]
DeliveryId = Annotated[str, Path(min_length=1, max_length=64)]

community_router = APIRouter(prefix="/v1/communities/{community_id}/webhooks", tags=["webhooks"])
network_router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
ROUTERS = [community_router, network_router]


async def community_scope(ctx: Ctx, me: CurrentPerson, community_id: CommunityId) -> Scope:
    return await webhooks.community_scope(ctx, me, community_id)


async def network_scope(ctx: Ctx, me: CurrentPerson) -> Scope:
    return webhooks.network_scope(ctx, me)


def _routes(router: APIRouter, scope_of: Callable[..., Awaitable[Scope]]) -> None:
    """The same operations under either prefix; `scope_of` says who may use them."""
    ScopeDep = Annotated[Scope, Depends(scope_of)]

    @router.post("", status_code=201, responses=problem_responses(403, 404, 422))
    async def create_webhook(ctx: Ctx, me: CurrentPerson, scope: ScopeDep, body: WebhookCreate) -> WebhookWithSecret:
        """Subscribe an endpoint. The `secret` is shown only here (and on rotation)."""
        return await webhooks.create(ctx, scope, me, body)

    @router.get("", responses=problem_responses(403, 404))
    async def list_webhooks(ctx: Ctx, scope: ScopeDep, cursor: Cursor = None, limit: Limit = 20) -> WebhookPage:
        """Newest first."""
        return await webhooks.list_webhooks(ctx, scope, cursor, limit)

    @router.get("/{webhook_id}", responses=problem_responses(403, 404))
    async def get_webhook(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId) -> WebhookView:
        return await webhooks.get(ctx, scope, webhook_id)

    @router.patch("/{webhook_id}", responses=problem_responses(403, 404, 422))
    async def change_webhook(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId, body: WebhookChange) -> WebhookView:
        """Change what is given; `enabled: true` turns a disabled endpoint back on and sends what waited."""
        return await webhooks.change(ctx, scope, webhook_id, body)

    @router.delete("/{webhook_id}", status_code=204, responses=problem_responses(403, 404))
    async def delete_webhook(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId) -> Response:
        await webhooks.delete(ctx, scope, webhook_id)
        return Response(status_code=204)

    @router.post("/{webhook_id}/rotate-secret", responses=problem_responses(403, 404))
    async def rotate_secret(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId) -> WebhookWithSecret:
        """A new secret, shown once; the old one keeps signing beside it for the overlap period."""
        return await webhooks.rotate_secret(ctx, scope, webhook_id)

    @router.get("/{webhook_id}/deliveries", responses=problem_responses(403, 404))
    async def list_deliveries(
        ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId, cursor: Cursor = None, limit: Limit = 20
    ) -> DeliveryPage:
        """Newest first."""
        return await webhooks.list_deliveries(ctx, scope, webhook_id, cursor, limit)

    @router.post("/{webhook_id}/deliveries/{delivery_id}/retry", status_code=202, responses=problem_responses(403, 404))
    async def retry_delivery(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId, delivery_id: DeliveryId) -> DeliveryView:
        """Send it again now, with the same `webhook-id`."""
        return await webhooks.retry_delivery(ctx, scope, webhook_id, delivery_id)

    @router.post("/{webhook_id}/test", status_code=202, responses=problem_responses(403, 404))
    async def test_webhook(ctx: Ctx, scope: ScopeDep, webhook_id: WebhookId) -> DeliveryView:
        """Send a signed `org.weft.webhook.test.v1` ping, delivered like the others."""
        return await webhooks.send_test(ctx, scope, webhook_id)


_routes(community_router, community_scope)
_routes(network_router, network_scope)
