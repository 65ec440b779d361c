"""`person.erased`: the person's upcoming places are cancelled through the normal use
case (the waitlist moves up, rsvp.cancelled / rsvp.promoted go out), then what must
stay is anonymised. A second delivery finds no place left and nothing to re-key."""

from __future__ import annotations

from weft_events.usecases.context import EventsContext
from weft_events.usecases.erasure import erase_person
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.messaging.consumer import Delivery, MessageDispatcher
from weft_shared.messaging.handlers import ContextHandlers


async def person_erased(ctx: EventsContext, message: PersonErased, _delivery: Delivery) -> None:
    await erase_person(ctx, message.user_id, message.erased_at)


def register(dispatcher: MessageDispatcher, ctx: EventsContext) -> None:
    ContextHandlers(dispatcher, ctx).on(PersonErased, person_erased)
