"""Check-ins: a host records who came (the CPD evidence), once per person and occurrence."""

from __future__ import annotations

from weft_events.domain.check_ins import check_in_refusal, walk_in_mode
from weft_events.domain.events import AttendanceMode, Doc, duration_minutes
from weft_events.domain.places import PlaceStatus
from weft_events.messages import rsvp_facts
from weft_events.schemas import CheckInView
from weft_events.storage.rsvps import place_id
from weft_events.usecases.access import announce, managed_event, sight_of
from weft_events.usecases.context import EventsContext
from weft_events.usecases.places import counter, take_place
from weft_events.usecases.rsvps import banned_from_event
from weft_events.usecases.views import check_in_view
from weft_shared.contracts.events import CheckInRecorded
from weft_shared.errors import Conflict, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction

# One answer for an id nobody knows and for a person who may not attend: a host
# learns nothing about whether an id exists by checking it in.
NO_WALK_IN = "this person has no place at this event and may not join it"


async def _check_walk_in(ctx: EventsContext, event: Doc, user_id: str) -> None:
    """Someone without a place may be checked in if they could have booked one.
    The membership view knows everyone who belongs to a community; nobody else can attend.
    A banned person gets the same answer: a host learns nothing about who is banned."""
    sight = await sight_of(ctx, user_id)
    banned = await banned_from_event(ctx, event, user_id)
    if banned or not sight.standing.member_of or not await sight.may_book(event):
        raise Problem(NO_WALK_IN, status=422, errors=[{"field": "user_id", "message": NO_WALK_IN}])


async def check_in(ctx: EventsContext, host: Person, event_id: str, user_id: str) -> tuple[CheckInView, bool]:
    """Record that `user_id` attended. Returns (record, created); checking in again
    changes nothing and announces nothing.

    A waitlisted person or a walk-in who turns up gets a confirmed place: they count
    in the head count (`confirmed`), but capacity never turns away someone already in
    the room - it rations advance booking, not the register."""

    async def work(tx: Transaction) -> tuple[CheckInView, bool]:
        event, _ = await managed_event(ctx, host, event_id)
        recorded = await ctx.storage.check_ins.get(event_id, user_id)
        if recorded is not None:
            return check_in_view(event, recorded), False
        place = await ctx.storage.rsvps.get(event_id, user_id)
        if place is None:
            await _check_walk_in(ctx, event, user_id)
        moment = now()
        refusal = check_in_refusal(event, moment)
        if refusal is not None:
            raise Conflict(refusal)
        # Every check-in writes the occurrence: a concurrent cancellation or withdrawal conflicts with it.
        inc = {"checked_in": 1}
        if place is None:
            mode = walk_in_mode(event["format"])
            event = await take_place(ctx, event, user_id, mode, PlaceStatus.CONFIRMED, at=moment)
        else:
            mode = AttendanceMode(place["mode"])
            if place["status"] == PlaceStatus.WAITLISTED.value:
                await ctx.storage.rsvps.confirm([place["_id"]], at=moment)
                inc |= {counter(PlaceStatus.WAITLISTED, mode): -1, counter(PlaceStatus.CONFIRMED, mode): 1}
        event = await ctx.storage.events.update(event_id, inc=inc)
        record = {
            "_id": place_id(event_id, user_id),
            "event_id": event_id,
            "user_id": user_id,
            "starts_at": event["starts_at"],
            "mode": mode.value,
            "checked_in_at": moment,
            "checked_in_by": host.id,
            "walk_in": place is None,
        }
        await ctx.storage.check_ins.insert(record)
        message = CheckInRecorded(
            rsvp=rsvp_facts(event, user_id, mode),
            checked_in_at=moment,
            recorded_by=host.id,
            duration_minutes=duration_minutes(event),
        )
        announce(tx, event, message)
        return check_in_view(event, record), True

    return await ctx.uow.run(work)
