"""Check-ins: a host records who came (the CPD evidence), once per person and occurrence."""

from __future__ import annotations

from weft_events.attendance import (
    check_in_refusal,
    duration_minutes,
    entry_of,
    may_book,
    to_millis,
    walk_in_mode,
)
from weft_events.domain import Doc
from weft_events.schemas import CheckInView
from weft_events.snapshots import rsvp_facts
from weft_events.usecases.context import Context
from weft_shared.auth import Principal
from weft_shared.contracts.events import CheckInRecorded
from weft_shared.errors import Conflict, NotFound, Problem
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Outgoing


def _user_problem(status: int, message: str) -> Problem:
    return Problem(message, status=status, errors=[{"field": "user_id", "message": message}])


async def _check_walk_in(ctx: Context, event: Doc, user_id: str) -> None:
    """Someone without a place may be checked in if they could have booked one."""
    standing = await ctx.facts.standing(user_id)
    if not standing.member_of:
        # The read model knows everyone who belongs to a community; nobody else can attend.
        raise _user_problem(404, "no such person: not a member of any community")
    if not may_book(event, standing, community_hidden=await ctx.community_hidden(event["community_id"])):
        raise _user_problem(422, "this person has no place at this event and may not join it")


async def check_in(ctx: Context, host: Principal, event_id: str, user_id: str) -> tuple[CheckInView, bool]:
    """Record that `user_id` attended. Returns (record, created); checking in again
    changes nothing and emits nothing.

    A waitlisted person or a walk-in who turns up becomes confirmed: they count in
    the head count (`confirmed`), but capacity never turns away someone already in
    the room - it rations advance booking, not the register."""
    await ctx.managed_event(event_id, host.sub)
    created = False

    async def plan(event: Doc) -> tuple[Doc, list[Outgoing]] | None:
        nonlocal created
        created = False
        entry = entry_of(event, user_id)
        if entry is not None and entry.get("checked_in_at") is not None:
            return None
        if entry is None:
            await _check_walk_in(ctx, event, user_id)
        moment = to_millis(now())
        refusal = check_in_refusal(event, moment)
        if refusal is not None:
            raise Conflict(refusal)
        walk_in = entry is None
        if entry is None:
            entry = {"user_id": user_id, "mode": walk_in_mode(event["format"]).value, "at": moment, "walk_in": True}
        checked = {**entry, "status": "confirmed", "checked_in_at": moment, "checked_in_by": host.sub}
        # In place otherwise: the array order is everyone else's waitlist order.
        attendees = (
            [*event["attendees"], checked]
            if walk_in
            else [checked if a["user_id"] == user_id else a for a in event["attendees"]]
        )
        confirmed = dict(event["confirmed"])
        if entry.get("status") != "confirmed":
            confirmed[checked["mode"]] += 1
        message = CheckInRecorded(
            rsvp=rsvp_facts(event, checked),
            checked_in_at=moment,
            recorded_by=host.sub,
            duration_minutes=duration_minutes(event),
        )
        created = True
        return {"$set": {"attendees": attendees, "confirmed": confirmed}}, [ctx.message(message, event)]

    written = await ctx.mutate(event_id, plan)
    entry = entry_of(written, user_id)
    if entry is None or entry.get("checked_in_at") is None:  # pragma: no cover - plan wrote or found it
        raise NotFound("no such check-in")
    return check_in_view(written, entry), created


def check_in_view(event: Doc, entry: Doc) -> CheckInView:
    return CheckInView(
        event_id=event["_id"],
        user_id=entry["user_id"],
        attendance=entry["mode"],
        checked_in_at=entry["checked_in_at"],
        checked_in_by=entry["checked_in_by"],
        walk_in=bool(entry.get("walk_in")),
        duration_minutes=duration_minutes(event),
    )
