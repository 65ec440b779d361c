"""RSVPs: taking a place (a seat or the waitlist), giving it up, the hosts' list,
and the places a person loses when they leave the community."""

from __future__ import annotations

from weft_events.domain.events import (
    AttendanceMode,
    Doc,
    EventVisibility,
    audience_communities,
    can_manage,
    is_scheduled,
    members_only,
    modes_of,
    registration_refusal,
)
from weft_events.domain.places import EndReason, PlaceStatus, status_on_arrival
from weft_events.messages import rsvp_facts
from weft_events.schemas import AttendeesView, RsvpView, SeatsView
from weft_events.usecases.access import announce, sight_of, visible_event
from weft_events.usecases.context import EventsContext
from weft_events.usecases.places import drop_place, take_place
from weft_events.usecases.views import attendee_views, rsvp_view
from weft_shared.contracts.events import RsvpConfirmed, RsvpWaitlisted
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.service.actor import Person, System
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction


async def rsvp(ctx: EventsContext, person: Person, event_id: str, mode: AttendanceMode) -> tuple[RsvpView, bool]:
    """Confirmed while that mode has seats, else waitlisted. Repeating it changes
    nothing; asking for the other mode moves the place. Returns (result, changed)."""

    async def work(tx: Transaction) -> tuple[RsvpView, bool]:
        event, sight = await visible_event(ctx, person, event_id)
        await refuse_banned(ctx, event, person.id)
        if members_only(event, sight.standing):
            raise Forbidden("only members of the community can join this event")
        refusal = registration_refusal(event, now())
        if refusal is not None:
            raise Conflict(refusal)
        offered = modes_of(event["format"])
        if mode not in offered:
            raise Problem(
                f"this event is {event['format']}; attend it {' or '.join(offered)}",
                status=422,
                errors=[{"field": "attendance", "message": f"not offered by a {event['format']} event"}],
            )
        held = await ctx.storage.rsvps.get(event_id, person.id)
        if held is not None:
            if held["mode"] == mode.value or await ctx.storage.check_ins.get(event_id, person.id):
                return await rsvp_view(ctx, held), False  # the same place, or attendance already recorded
            event = await drop_place(ctx, tx, event, held, reason="cancelled")
        # Leaving the community drops this place: make a concurrent leave and this RSVP conflict.
        member_seq = await ctx.storage.membership.hold_member(event["community_id"], person.id)
        audience = sorted(audience_communities(event))
        if not sight.standing.member_of & set(audience):
            # A partner's place relies on a link, which removing drops: make the two conflict too.
            await ctx.storage.membership.hold_links(audience)
        status = status_on_arrival(event, mode)
        event = await take_place(ctx, event, person.id, mode, status, at=now(), member_seq=member_seq)
        facts = rsvp_facts(event, person.id, mode)
        if status is PlaceStatus.CONFIRMED:
            announce(tx, event, RsvpConfirmed(rsvp=facts))
            return RsvpView(status=status.value, attendance=mode, position=None), True
        # The newest place is the last of its waitlist.
        position = int(event["waitlisted"][mode.value])
        announce(tx, event, RsvpWaitlisted(rsvp=facts, position=position))
        return RsvpView(status=status.value, attendance=mode, position=position), True

    # Every RSVP writes the occurrence's counters: queue this process's writers of one occurrence.
    return await ctx.uow.run(work, one_at_a_time=f"events/{event_id}")


BANNED = "you have been banned from a community that hosts this event"


async def banned_from_event(ctx: EventsContext, event: Doc, user_id: str) -> bool:
    """A person banned by the organiser or by a co-host may not take a place: the
    co-host's members and hosts are in the room too."""
    return bool(await ctx.storage.membership.banned_from(user_id, sorted(audience_communities(event))))


async def refuse_banned(ctx: EventsContext, event: Doc, user_id: str) -> None:
    if await banned_from_event(ctx, event, user_id):
        raise Forbidden(BANNED)


async def withdraw(ctx: EventsContext, person: Person, event_id: str) -> None:
    """Give up one's place; the first waitlisted person for that mode gets a freed seat."""

    async def work(tx: Transaction) -> None:
        event, _ = await visible_event(ctx, person, event_id)
        place = await ctx.storage.rsvps.get(event_id, person.id)
        if place is None:
            raise NotFound("you have no RSVP for this event")
        if await ctx.storage.check_ins.get(event_id, person.id) is not None:
            raise Conflict("your attendance is already recorded; it cannot be cancelled")
        if event["starts_at"] <= now():
            raise Conflict("this event has already started")
        await drop_place(ctx, tx, event, place, reason="cancelled")

    await ctx.uow.run(work, one_at_a_time=f"events/{event_id}")


async def attendees(ctx: EventsContext, person: Person, event_id: str) -> AttendeesView:
    """Counts for everyone who may see the event; the list itself for its hosts.
    Read in one transaction, so the counts and the list are one snapshot."""

    async def work(_tx: Transaction) -> AttendeesView:
        event, sight = await visible_event(ctx, person, event_id)
        view = AttendeesView(confirmed=SeatsView(**event["confirmed"]), waitlisted=SeatsView(**event["waitlisted"]))
        if can_manage(event, sight.standing):
            places = await ctx.storage.rsvps.of_event(event_id)
            view.attendees = attendee_views(places, await ctx.storage.check_ins.of_event(event_id))
        return view

    return await ctx.uow.run(work)


async def release_places(
    ctx: EventsContext, actor: System, community_id: str, user_id: str, reason: EndReason, *, left_at_seq: int
) -> None:
    """Someone left (or was removed from) the community, as the message at stream sequence
    `left_at_seq` says: drop their places at its upcoming events that were granted on an
    older membership fact. A place granted after a later rejoin was seen stays, even when
    the leave is handled late (a redelivery, or a batch handled out of order). Recorded
    attendance stays: it is evidence (CPD), not a booking."""

    async def work(tx: Transaction) -> None:
        for place in await ctx.storage.rsvps.upcoming_of_member(community_id, user_id, after=now()):
            if (place.get("member_seq") or 0) > left_at_seq:
                continue
            event = await ctx.storage.events.get(place["event_id"])
            if event is None or not is_scheduled(event):
                continue
            if await ctx.storage.check_ins.get(place["event_id"], user_id) is not None:
                continue
            await drop_place(ctx, tx, event, place, reason=reason)

    await ctx.uow.run(work)


async def release_unlinked_places(ctx: EventsContext, actor: System, community_ids: list[str]) -> None:
    """A link between these communities was removed: drop the places at their upcoming
    partners-only events that their holders may no longer book (rsvp.cancelled,
    `link_removed`; freed seats go to the waitlist). The waitlisted ones go first, so
    nobody who is losing their place is promoted. Recorded attendance stays.
    Delivered again, it finds nothing more to drop."""

    async def work(tx: Transaction) -> None:
        moment, seen = now(), set()
        for community_id in community_ids:
            for event in await ctx.storage.events.upcoming_with_audience(community_id, after=moment):
                if event["_id"] in seen or not is_scheduled(event):
                    continue
                seen.add(event["_id"])
                if event["visibility"] != EventVisibility.PARTNERS.value:
                    continue  # only partners-only events are reached through a link
                places = await ctx.storage.rsvps.of_event(event["_id"])
                places.sort(key=lambda p: p["status"] != PlaceStatus.WAITLISTED.value)
                for place in places:
                    if await ctx.storage.check_ins.get(event["_id"], place["user_id"]) is not None:
                        continue
                    if await (await sight_of(ctx, place["user_id"])).may_book(event):
                        continue
                    current = await ctx.storage.rsvps.get(event["_id"], place["user_id"])
                    if current is not None:  # (a promotion may have changed it)
                        event = await drop_place(ctx, tx, event, current, reason="link_removed")

    await ctx.uow.run(work)
