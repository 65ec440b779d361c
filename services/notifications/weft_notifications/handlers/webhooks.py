"""Every consumed message: one delivery per enabled subscription that receives it,
recorded in the message's transaction (a redelivered message finds its
processed-message record and records nothing twice).

A community subscription receives the messages scoped to its community (the
subject's last token), except those that name a hidden community other than its own
(a link proposed by a hidden community, an event it co-hosts): its owners may not
know that community, so its id must not reach them this way either. A network one
receives every message but personal data. Neither gets the fields meant for this
service alone (the sealed recipients of a reply).
"""

from __future__ import annotations

from typing import Any

from weft_notifications.domain import webhooks as rules
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.webhooks import new_delivery
from weft_shared.contracts.envelope import Envelope
from weft_shared.messaging.consumer import Delivery, MessageDispatcher, envelope_bytes
from weft_shared.service.clock import now


async def record_deliveries(ctx: NotificationsContext, envelope: Envelope, delivery: Delivery) -> int:
    scope = delivery.subject.rsplit(".", 1)[-1]
    candidates = []
    if scope != rules.NETWORK_SCOPE and not await _names_a_hidden_community(ctx, envelope, scope):
        candidates += await ctx.storage.webhooks.enabled_in(scope)
    if not rules.is_personal(envelope.type):
        candidates += await ctx.storage.webhooks.enabled_in(rules.NETWORK_SCOPE)
    network = rules.NETWORK_SCOPE
    receiving = [s for s in candidates if rules.receives(s["types"], envelope.type, network=s["scope"] == network)]
    if not receiving:
        return 0
    at = now()
    deliverable = envelope.model_copy(update={"data": rules.deliverable_data(envelope.data)})
    body = envelope_bytes(deliverable).decode()
    await ctx.storage.webhooks.record(
        [new_delivery(s["_id"], envelope, seq=delivery.sequence, at=at, body=body) for s in receiving]
    )
    return len(receiving)


async def _names_a_hidden_community(ctx: NotificationsContext, envelope: Envelope, scope: str) -> bool:
    others = sorted(rules.communities_named(envelope.data) - {scope})
    return bool(others) and bool(await ctx.storage.view.hold_communities(others))


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    async def on_message(envelope: Envelope, _payload: Any, delivery: Delivery) -> None:
        await record_deliveries(ctx, envelope, delivery)

    dispatcher.on_every(on_message)
