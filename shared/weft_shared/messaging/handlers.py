"""Registering a service's handlers `(ctx, message, delivery)` on its dispatcher.

A handler is written against the service's context; the dispatcher calls
`(envelope, message, delivery)`. `ContextHandlers` binds the one to the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.messaging.consumer import Delivery, MessageDispatcher

C = TypeVar("C")
P = TypeVar("P", bound=MessagePayload)


class ContextHandlers(Generic[C]):
    def __init__(self, dispatcher: MessageDispatcher, ctx: C) -> None:
        self._dispatcher = dispatcher
        self._ctx = ctx

    def on(self, payload_type: type[P], handler: Callable[[C, P, Delivery], Awaitable[None]]) -> None:
        """Run `handler(ctx, message, delivery)` for each message of `payload_type`."""
        ctx = self._ctx

        async def handle(_envelope: Envelope, message: P, delivery: Delivery) -> None:
            await handler(ctx, message, delivery)

        self._dispatcher.on(payload_type)(handle)
