"""What the calendar routes (api_calendar) ask of the events service: the
events a caller may see, and a person's confirmed events for their feed."""

from __future__ import annotations

from datetime import datetime

from weft_events.domain import Doc, can_see
from weft_events.feeds import CalendarFeeds
from weft_events.usecases.context import Context
from weft_shared.auth import Principal
from weft_shared.errors import NotFound

# A calendar is for looking ahead; an unbounded one would be a denial of service.
MAX_EVENTS = 1000


class CalendarQueries:
    def __init__(self, ctx: Context, feeds: CalendarFeeds) -> None:
        self._ctx = ctx
        self._feeds = feeds

    @property
    def public_base_url(self) -> str:
        return self._ctx.settings.public_base_url

    @property
    def calendar_feeds(self) -> CalendarFeeds:
        return self._feeds

    async def _known_community(self, user: Principal, community_id: str) -> tuple[Doc, bool]:
        fact = await self._ctx.facts.get_community(community_id)
        standing = await self._ctx.facts.standing(user.sub)
        hidden = fact is None or fact.get("visibility") == "hidden"
        if fact is None or (hidden and community_id not in standing.member_of):
            raise NotFound("no such community")
        return fact, hidden

    async def community_name(self, user: Principal, community_id: str) -> str:
        fact, _ = await self._known_community(user, community_id)
        return str(fact.get("name") or community_id)

    async def visible_events_of_community(
        self, user: Principal, community_id: str, from_: datetime, to: datetime
    ) -> list[Doc]:
        _, hidden = await self._known_community(user, community_id)
        standing = await self._ctx.facts.standing(user.sub)
        found = await self._ctx.repo.calendar_of_community(community_id, start=from_, end=to, limit=MAX_EVENTS)
        return [e for e in found if can_see(e, standing, community_hidden=hidden)]

    async def visible_event(self, user: Principal, event_id: str) -> Doc:
        event, _ = await self._ctx.visible_event(event_id, user.sub)
        return event

    async def confirmed_events_of(self, user_id: str, from_: datetime, to: datetime) -> list[Doc]:
        found = await self._ctx.repo.with_attendee(user_id, start=from_, end=to)
        return [
            e
            for e in found[:MAX_EVENTS]
            if any(a["user_id"] == user_id and a["status"] == "confirmed" for a in e.get("attendees", []))
        ]
