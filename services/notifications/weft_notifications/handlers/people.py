"""People messages: how to reach each person, so mail reaches people who never
called this service (membership announces an address when it first records a
person and whenever the address changes)."""

from __future__ import annotations

from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.membership import PersonContactChanged
from weft_shared.messaging.consumer import Delivery, MessageDispatcher


async def contact_changed(
    ctx: NotificationsContext, _envelope: Envelope, message: PersonContactChanged, delivery: Delivery
) -> None:
    """Sequence-guarded: a late, older address never replaces a newer one (nor a name a newer name)."""
    await ctx.storage.view.record_contact(message.user_id, message.email, delivery.sequence)
    if message.display_name:
        await ctx.storage.view.record_name(message.user_id, message.display_name, delivery.sequence)


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, PersonContactChanged, contact_changed)
