"""Response bodies built from stored documents."""

from __future__ import annotations

from weft_events.domain.events import AttendanceMode, Doc, Standing, can_manage, duration_minutes
from weft_events.domain.places import PlaceStatus, seats_left
from weft_events.messages import event_snapshot
from weft_events.schemas import AttendeeView, CheckInView, EventView, MyRsvp, RsvpView, SeatsView
from weft_events.usecases.access import EventSight
from weft_events.usecases.context import EventsContext


async def waitlist_position(ctx: EventsContext, place: Doc) -> int | None:
    if place["status"] != PlaceStatus.WAITLISTED.value:
        return None
    return await ctx.storage.rsvps.waitlist_position(place["event_id"], place["mode"], place["seq"])


async def rsvp_view(ctx: EventsContext, place: Doc) -> RsvpView:
    return RsvpView(status=place["status"], attendance=place["mode"], position=await waitlist_position(ctx, place))


async def event_views_for(ctx: EventsContext, events: list[Doc], sight: EventSight) -> list[EventView]:
    """The occurrences as `sight`'s person sees them, each with their own place."""
    standing = sight.standing
    places = await ctx.storage.rsvps.of_person_at(standing.user_id, [e["_id"] for e in events])
    views = []
    for event in events:
        place = places.get(event["_id"])
        mine = None
        if place is not None:
            position = await waitlist_position(ctx, place)
            mine = MyRsvp(status=place["status"], attendance=place["mode"], position=position)
        views.append(event_view(event, standing, mine, cohosts=await sight.named_cohosts(event)))
    return views


async def event_view_for(ctx: EventsContext, event: Doc, sight: EventSight) -> EventView:
    [view] = await event_views_for(ctx, [event], sight)
    return view


def event_view(event: Doc, standing: Standing, mine: MyRsvp | None, *, cohosts: list[str]) -> EventView:
    """`cohosts`: the co-hosting communities this reader may know of (see `EventSight.named_cohosts`)."""
    manager = can_manage(event, standing)
    confirmed = mine is not None and mine.status == PlaceStatus.CONFIRMED.value
    # What the bus sees of the event, and what only the API shows.
    return EventView(
        **(event_snapshot(event).model_dump() | {"cohost_community_ids": cohosts}),
        joining_link=event.get("joining_link") if (confirmed or manager) else None,
        seats_left=SeatsView(**{m.value: seats_left(event, m) for m in AttendanceMode}),
        waitlisted=SeatsView(**event["waitlisted"]),
        my_rsvp=mine,
        can_manage=manager,
    )


def attendee_views(places: list[Doc], check_ins: dict[str, Doc]) -> list[AttendeeView]:
    """Everyone holding a place, in the order they took it; waitlist positions by rank."""
    waiting = {m.value: 0 for m in AttendanceMode}
    views = []
    for place in places:
        position = None
        if place["status"] == PlaceStatus.WAITLISTED.value:
            waiting[place["mode"]] += 1
            position = waiting[place["mode"]]
        check_in = check_ins.get(place["user_id"])
        views.append(
            AttendeeView(
                user_id=place["user_id"],
                attendance=place["mode"],
                status=place["status"],
                position=position,
                checked_in_at=check_in["checked_in_at"] if check_in else None,
            )
        )
    return views


def check_in_view(event: Doc, check_in: Doc) -> CheckInView:
    return CheckInView(
        event_id=event["_id"],
        user_id=check_in["user_id"],
        attendance=check_in["mode"],
        checked_in_at=check_in["checked_in_at"],
        checked_in_by=check_in["checked_in_by"],
        walk_in=bool(check_in["walk_in"]),
        duration_minutes=duration_minutes(event),
    )
