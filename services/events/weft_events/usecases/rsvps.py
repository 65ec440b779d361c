"""RSVPs: seats, waitlists and automatic promotion."""

from __future__ import annotations

from typing import Literal

from weft_events.domain import Doc, EventStatus, can_manage, first_waitlisted, modes_of, waitlist_position
from weft_events.schemas import AttendeesView, AttendeeView, RsvpView
from weft_events.snapshots import rsvp_facts
from weft_events.usecases.context import Context, counts
from weft_shared.auth import Principal
from weft_shared.contracts.events import RsvpCancelled, RsvpConfirmed, RsvpPromoted, RsvpWaitlisted
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Outgoing

Reason = Literal["cancelled", "left_community", "removed_from_community"]


def _entry_of(event: Doc, user_id: str) -> Doc | None:
    return next((a for a in event.get("attendees", []) if a["user_id"] == user_id), None)


def _result(event: Doc, user_id: str) -> RsvpView:
    entry = _entry_of(event, user_id)
    if entry is None:  # pragma: no cover - callers only ask after a successful write
        raise Problem("the RSVP changed meanwhile; try again", status=409)
    position = waitlist_position(event["attendees"], user_id, entry["mode"])
    return RsvpView(status=entry["status"], attendance=entry["mode"], position=position)


def check_open_for_rsvp(event: Doc) -> None:
    if event["status"] != EventStatus.SCHEDULED.value:
        raise Problem("this event is cancelled", status=409)
    moment = now()
    if event["starts_at"] <= moment:
        raise Problem("this event has already started", status=409)
    if event.get("registration_opens_at") and moment < event["registration_opens_at"]:
        raise Problem("registration for this event is not open yet", status=409)
    if event.get("registration_closes_at") and moment >= event["registration_closes_at"]:
        raise Problem("registration for this event has closed", status=409)


async def rsvp(ctx: Context, user: Principal, event_id: str, mode: str) -> tuple[RsvpView, bool]:
    """Confirmed while that mode has seats, else waitlisted. Repeating it changes
    nothing; asking for the other mode moves the RSVP. Returns (result, changed)."""
    event, standing = await ctx.visible_event(event_id, user.sub)
    if event["visibility"] == "community" and not (
        standing.member_of & {event["community_id"], *event.get("cohost_community_ids", [])}
    ):
        raise Forbidden("only members of the community can join this event")
    check_open_for_rsvp(event)
    if mode not in modes_of(event["format"]):
        raise Problem(
            f"this event is {event['format']}; attend it {' or '.join(modes_of(event['format']))}",
            status=422,
            errors=[{"field": "attendance", "message": f"not offered by a {event['format']} event"}],
        )
    existing = _entry_of(event, user.sub)
    if existing is not None:
        if existing["mode"] == mode:
            return _result(event, user.sub), False
        event = await cancel_rsvp(ctx, user.sub, event_id, reason="cancelled")
    entry = {"user_id": user.sub, "mode": mode, "at": now(), "checked_in_at": None, "checked_in_by": None}
    facts = rsvp_facts(event, {"user_id": user.sub, "mode": mode})
    seated = await ctx.repo.take_seat(
        event_id,
        {**entry, "status": "confirmed"},
        event["capacity"].get(mode),
        [ctx.message(RsvpConfirmed(rsvp=facts), event)],
    )
    if seated is not None:
        return _result(seated, user.sub), True
    # No seat: the waitlist. Its position is the order of entries in the document.
    position = waitlist_position([*event["attendees"], {**entry, "status": "waitlisted"}], user.sub, mode) or 1
    waiting = await ctx.repo.join_waitlist(
        event_id, {**entry, "status": "waitlisted"}, [ctx.message(RsvpWaitlisted(rsvp=facts, position=position), event)]
    )
    if waiting is None:
        current = await ctx.repo.get(event_id)
        if current is not None and _entry_of(current, user.sub) is not None:
            return _result(current, user.sub), False  # a concurrent identical RSVP won
        raise Problem("this event is no longer open for RSVPs", status=409)
    # A seat may have freed between the two writes: let the waitlist move up.
    waiting = await rebalance(ctx, waiting)
    return _result(waiting, user.sub), True


async def cancel_rsvp(ctx: Context, user_id: str, event_id: str, *, reason: Reason) -> Doc:
    """Drop the person's place; the first waitlisted person for that mode takes
    a freed seat in the same write, and is told (rsvp.promoted)."""

    async def plan(event: Doc) -> tuple[Doc, list[Outgoing]] | None:
        entry = _entry_of(event, user_id)
        if entry is None or entry.get("checked_in_at"):
            return None  # attendance already recorded is evidence (CPD), not a booking to drop
        mode = entry["mode"]
        attendees = [a for a in event["attendees"] if a["user_id"] != user_id]
        messages = [
            ctx.message(
                RsvpCancelled(
                    rsvp=rsvp_facts(event, {"user_id": user_id, "mode": mode}), was=entry["status"], reason=reason
                ),
                event,
            )
        ]
        confirmed = dict(event["confirmed"])
        if entry["status"] == "confirmed":
            confirmed[mode] -= 1
            if event["status"] == EventStatus.SCHEDULED.value:
                attendees, promoted = _promote(event, attendees, confirmed, mode)
                messages += [
                    ctx.message(RsvpPromoted(rsvp=rsvp_facts(event, {"user_id": p, "mode": mode})), event)
                    for p in promoted
                ]
        return {"$set": {"attendees": attendees, "confirmed": confirmed}}, messages

    return await ctx.mutate(event_id, plan)


def _promote(event: Doc, attendees: list[Doc], confirmed: dict[str, int], mode: str) -> tuple[list[Doc], list[str]]:
    """Give free seats of `mode` to the waitlist, first come first served (mutates `confirmed`)."""
    cap = event["capacity"].get(mode)
    promoted: list[str] = []
    while cap is None or confirmed[mode] < cap:
        waiting = first_waitlisted(attendees, mode)
        if waiting is None:
            break
        attendees = [
            {**a, "status": "confirmed", "promoted_at": now()} if a["user_id"] == waiting["user_id"] else a
            for a in attendees
        ]
        confirmed[mode] += 1
        promoted.append(waiting["user_id"])
    return attendees, promoted


async def rebalance(ctx: Context, event: Doc) -> Doc:
    """Promote waitlisted people into any free seats (after a capacity increase,
    or a seat freed between a failed seat claim and joining the waitlist)."""

    async def plan(current: Doc) -> tuple[Doc, list[Outgoing]] | None:
        if current["status"] != EventStatus.SCHEDULED.value:
            return None
        attendees, confirmed, messages = current["attendees"], dict(current["confirmed"]), []
        for mode in ("in_person", "online"):
            attendees, promoted = _promote(current, attendees, confirmed, mode)
            messages += [
                ctx.message(RsvpPromoted(rsvp=rsvp_facts(current, {"user_id": p, "mode": mode})), current)
                for p in promoted
            ]
        if not messages:
            return None
        return {"$set": {"attendees": attendees, "confirmed": confirmed}}, messages

    return await ctx.mutate(event["_id"], plan)


async def withdraw(ctx: Context, user: Principal, event_id: str) -> None:
    event, _ = await ctx.visible_event(event_id, user.sub)
    entry = _entry_of(event, user.sub)
    if entry is None:
        raise NotFound("you have no RSVP for this event")
    if entry.get("checked_in_at"):
        raise Problem("your attendance is already recorded; it cannot be cancelled", status=409)
    if event["starts_at"] <= now():
        raise Problem("this event has already started", status=409)
    await cancel_rsvp(ctx, user.sub, event_id, reason="cancelled")


async def attendees(ctx: Context, user: Principal, event_id: str) -> AttendeesView:
    event, standing = await ctx.visible_event(event_id, user.sub)
    view = AttendeesView(confirmed=counts(event, "confirmed"), waitlisted=counts(event, "waitlisted"))
    if can_manage(event, standing):
        view.attendees = [
            AttendeeView(
                user_id=a["user_id"],
                attendance=a["mode"],
                status=a["status"],
                position=waitlist_position(event["attendees"], a["user_id"], a["mode"]),
                checked_in_at=a.get("checked_in_at"),
            )
            for a in event["attendees"]
        ]
    return view
