"""Steps that change places and the occurrence's counters together, inside the
calling use case's transaction.

Every step writes the occurrence document (its counters). That is what keeps the
seat rule exact: two transactions about one occurrence's places always write one
common document, so one of them conflicts, is re-run and sees the other (no write
skew), and the counters always equal the documents.
"""

from __future__ import annotations

from datetime import datetime

from weft_events.domain.events import AttendanceMode, Doc
from weft_events.domain.places import EndReason, PlaceStatus, promotions_due
from weft_events.messages import rsvp_facts
from weft_events.storage.rsvps import place_id
from weft_events.usecases.access import announce
from weft_events.usecases.context import EventsContext
from weft_shared.contracts.events import RsvpCancelled, RsvpPromoted
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction


def counter(status: PlaceStatus | str, mode: AttendanceMode | str) -> str:
    """The occurrence's counter of `status` places in `mode`, e.g. `waitlisted.online`."""
    return f"{PlaceStatus(status).value}.{AttendanceMode(mode).value}"


async def take_place(
    ctx: EventsContext,
    event: Doc,
    user_id: str,
    mode: AttendanceMode,
    status: PlaceStatus,
    *,
    at: datetime,
    member_seq: int | None = None,
) -> Doc:
    """A new place at the end of the queue; the occurrence after. `member_seq` is the stream
    sequence of the membership fact the place was granted on (see `release_places`)."""
    event = await ctx.storage.events.update(event["_id"], inc={counter(status, mode): 1, "rsvp_seq": 1})
    place = {
        "_id": place_id(event["_id"], user_id),
        "event_id": event["_id"],
        "user_id": user_id,
        "community_id": event["community_id"],
        "starts_at": event["starts_at"],
        "mode": mode.value,
        "status": status.value,
        "seq": event["rsvp_seq"],
        "at": at,
        "member_seq": member_seq,
    }
    await ctx.storage.rsvps.put(place)
    return event


async def drop_place(ctx: EventsContext, tx: Transaction, event: Doc, place: Doc, *, reason: EndReason) -> Doc:
    """End a place (rsvp.cancelled); a freed seat goes to the waitlist. The occurrence after."""
    await ctx.storage.rsvps.delete(event["_id"], place["user_id"])
    event = await ctx.storage.events.update(event["_id"], inc={counter(place["status"], place["mode"]): -1})
    cancelled = RsvpCancelled(
        rsvp=rsvp_facts(event, place["user_id"], place["mode"]),
        was=place["status"],
        reason=reason,
    )
    announce(tx, event, cancelled)
    if place["status"] == PlaceStatus.CONFIRMED.value:
        event = await fill_seats(ctx, tx, event, AttendanceMode(place["mode"]))
    return event


async def fill_seats(ctx: EventsContext, tx: Transaction, event: Doc, mode: AttendanceMode) -> Doc:
    """Give the free seats of `mode` to the head of its waitlist (rsvp.promoted each)."""
    due = promotions_due(event, mode)
    if due == 0:
        return event
    promoted = await ctx.storage.rsvps.waitlist_head(event["_id"], mode, limit=due)
    if not promoted:
        return event
    await ctx.storage.rsvps.confirm([p["_id"] for p in promoted], at=now())
    moved = len(promoted)
    inc = {counter(PlaceStatus.CONFIRMED, mode): moved, counter(PlaceStatus.WAITLISTED, mode): -moved}
    event = await ctx.storage.events.update(event["_id"], inc=inc)
    for p in promoted:
        announce(tx, event, RsvpPromoted(rsvp=rsvp_facts(event, p["user_id"], mode)))
    return event


async def fill_all_seats(ctx: EventsContext, tx: Transaction, event: Doc) -> Doc:
    for mode in AttendanceMode:
        event = await fill_seats(ctx, tx, event, mode)
    return event
