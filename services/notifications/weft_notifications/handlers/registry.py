"""Registering handlers `(ctx, message, delivery)` on the service's dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from weft_notifications.usecases.context import NotificationsContext
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.messaging.consumer import Delivery, MessageDispatcher

P = TypeVar("P", bound=MessagePayload)
Handler = Callable[[NotificationsContext, Envelope, P, Delivery], Awaitable[None]]


def register_handler(
    dispatcher: MessageDispatcher, ctx: NotificationsContext, payload_type: type[P], handler: Handler[P]
) -> None:
    async def handle(envelope: Envelope, message: P, delivery: Delivery) -> None:
        await handler(ctx, envelope, message, delivery)

    dispatcher.on(payload_type)(handle)
