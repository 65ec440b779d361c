"""Calendars (iCalendar): a community's, one event's, and a person's private feed.

Each use case decides which occurrences a reader gets and at which of them the
reader may see the joining link (only where they hold a confirmed place); the
routes render what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from weft_events.domain.calendar_feeds import looks_like_token, new_token, token_hash
from weft_events.domain.events import Doc
from weft_events.domain.places import PlaceStatus
from weft_events.usecases.access import known_community, sight_of, visible_event
from weft_events.usecases.context import EventsContext
from weft_events.usecases.paging import check_window
from weft_shared.errors import BadRequest, NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction

# Calendars show what is coming and what just happened (e.g. to look back at last week's meeting).
DEFAULT_LOOKBACK = timedelta(days=30)
DEFAULT_LOOKAHEAD = timedelta(days=365)
MAX_WINDOW = timedelta(days=2 * 366)
# A calendar is for looking ahead; an unbounded one would be a denial of service.
MAX_EVENTS = 1000


@dataclass(frozen=True, slots=True)
class CalendarContent:
    name: str
    events: list[Doc]
    joining_link_for: set[str]  # ids of the events whose joining link the reader may see


def calendar_window(from_: datetime | None, to: datetime | None) -> tuple[datetime, datetime]:
    """[from, to), by default from 30 days ago to a year ahead; a time without an offset is UTC."""
    start = _aware(from_) if from_ else now() - DEFAULT_LOOKBACK
    end = _aware(to) if to else start + DEFAULT_LOOKBACK + DEFAULT_LOOKAHEAD
    check_window(start, end)
    if end - start > MAX_WINDOW:
        raise BadRequest(f"the window may span at most {MAX_WINDOW.days} days", field="to")
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _with_links(ctx: EventsContext, name: str, events: list[Doc], user_id: str) -> CalendarContent:
    confirmed = {
        event_id
        for event_id, place in (await ctx.storage.rsvps.of_person_at(user_id, [e["_id"] for e in events])).items()
        if place["status"] == PlaceStatus.CONFIRMED.value
    }
    return CalendarContent(name, events, confirmed)


async def community_calendar(
    ctx: EventsContext, person: Person, community_id: str, *, start: datetime, end: datetime
) -> CalendarContent:
    """The events the community organises or co-hosts that `person` may see, cancelled ones included."""
    community, sight = await known_community(ctx, person, community_id)
    found = await ctx.storage.events.calendar_of_community(community_id, start=start, end=end, limit=MAX_EVENTS)
    visible = await sight.visible(found)
    return await _with_links(ctx, str(community.get("name") or community_id), visible, person.id)


async def event_calendar(ctx: EventsContext, person: Person, event_id: str) -> CalendarContent:
    event, _ = await visible_event(ctx, person, event_id)
    return await _with_links(ctx, event["title"], [event], person.id)


async def feed_calendar(ctx: EventsContext, token: str) -> CalendarContent:
    """The private feed: no Authorization header, the token is the credential.
    Unknown and revoked tokens get the same answer: nothing to learn by probing."""
    user_id = await ctx.storage.calendar_feeds.owner_of(token_hash(token)) if looks_like_token(token) else None
    if user_id is None:
        raise NotFound("no such calendar feed")
    moment = now()
    event_ids = await ctx.storage.rsvps.confirmed_of_person(
        user_id, start=moment - DEFAULT_LOOKBACK, end=moment + DEFAULT_LOOKAHEAD, limit=MAX_EVENTS
    )
    events = await ctx.storage.events.by_ids(event_ids)
    # A place kept at an event its holder may no longer see (the organiser became hidden) stays out.
    found = await (await sight_of(ctx, user_id)).visible(events[e] for e in event_ids if e in events)
    return CalendarContent("Weft: my events", found, {e["_id"] for e in found})


async def create_feed(ctx: EventsContext, person: Person) -> str:
    """A new feed token for `person`, returned once and never stored; their previous feed stops working."""
    token = new_token()

    async def work(_tx: Transaction) -> None:
        await ctx.storage.calendar_feeds.replace(person.id, token_hash(token), at=now())

    await ctx.uow.run(work)
    return token


async def revoke_feed(ctx: EventsContext, person: Person) -> bool:
    """Revoke `person`'s feed; whether there was a live one (revoking twice is fine)."""

    async def work(_tx: Transaction) -> bool:
        feed = await ctx.storage.calendar_feeds.get(person.id)
        if feed is None or feed.get("token_hash") is None:
            return False
        await ctx.storage.calendar_feeds.revoke(person.id, at=now())
        return True

    return await ctx.uow.run(work)
