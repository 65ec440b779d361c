"""`person.erased`: delete what notifications holds about the person (idempotent:
a second delivery finds nothing left, and the tombstone is already kept)."""

from __future__ import annotations

from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.messaging.consumer import Delivery, MessageDispatcher
from weft_shared.storage.erasures import ErasedPeople


async def person_erased(
    ctx: NotificationsContext, _envelope: Envelope, message: PersonErased, _delivery: Delivery
) -> None:
    await ErasedPeople(ctx.storage.db).record(message.user_id, message.erased_at)
    await ctx.storage.erasure.erase(message.user_id)


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, PersonErased, person_erased)
