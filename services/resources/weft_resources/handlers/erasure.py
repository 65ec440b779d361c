"""`person.erased`: anonymise what the person wrote, delete what was only theirs.
A second delivery finds nothing left that names them."""

from __future__ import annotations

from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.messaging.consumer import Delivery, MessageDispatcher
from weft_shared.messaging.handlers import ContextHandlers
from weft_shared.storage.erasures import ErasedPeople


async def person_erased(ctx: ResourcesContext, message: PersonErased, _delivery: Delivery) -> None:
    await ErasedPeople(ctx.storage.db).record(message.user_id, message.erased_at)
    await ctx.storage.erasure.erase(message.user_id)


def register(dispatcher: MessageDispatcher, ctx: ResourcesContext) -> None:
    ContextHandlers(dispatcher, ctx).on(PersonErased, person_erased)
