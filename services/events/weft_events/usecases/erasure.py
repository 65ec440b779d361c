"""Erasing a person from events (driven by `person.erased`)."""

from __future__ import annotations

from datetime import datetime

from weft_events.domain.events import is_scheduled
from weft_events.usecases.context import EventsContext
from weft_events.usecases.places import drop_place
from weft_shared.service.clock import now
from weft_shared.storage.erasures import ErasedPeople
from weft_shared.storage.unit_of_work import Transaction


async def erase_person(ctx: EventsContext, user_id: str, erased_at: datetime) -> None:
    async def work(tx: Transaction) -> None:
        await ErasedPeople(ctx.storage.db).record(user_id, erased_at)
        moment = now()
        for place in await ctx.storage.erasure.places_of(user_id):
            event = await ctx.storage.events.get(place["event_id"])
            if event is None or not is_scheduled(event) or event["starts_at"] <= moment:
                continue  # a past place is attendance history: it stays, anonymised
            if await ctx.storage.check_ins.get(place["event_id"], user_id) is not None:
                continue
            await drop_place(ctx, tx, event, place, reason="person_erased")
        await ctx.storage.erasure.anonymise(user_id)

    await ctx.uow.run(work)
