"""iCalendar routes: a community's calendar, one event's, and the personal feed.

The routes decide *who sees the joining link* (only a reader with a confirmed
place, read from the event document itself) and leave *which events* to the
use-case layer, reached through `CalendarSource` on `app.state.calendar_source`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel

from weft_events.api import CommunityId, EventId
from weft_events.feeds import CalendarFeeds
from weft_events.ical import render_calendar
from weft_shared.auth import CurrentUser, Principal
from weft_shared.errors import BadRequest, NotFound

Doc = dict[str, Any]

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
# Calendars show what is coming and what just happened (e.g. to look back at last week's meeting).
DEFAULT_LOOKBACK = timedelta(days=30)
DEFAULT_LOOKAHEAD = timedelta(days=365)
MAX_WINDOW = timedelta(days=2 * 366)
FEED_REFRESH = timedelta(hours=1)


class CalendarSource(Protocol):
    """What the calendar routes need from the use-case layer.

    Documents are `events` documents as in DOCUMENTS.md, with `attendees`
    (the reader's own entry at least: the joining link depends on it). Cancelled
    occurrences in the window are included, so subscribers see the cancellation.
    """

    @property
    def public_base_url(self) -> str: ...

    @property
    def calendar_feeds(self) -> CalendarFeeds: ...

    async def community_name(self, user: Principal, community_id: str) -> str:
        """The community's name; NotFound if `user` may not know it exists."""
        ...

    async def visible_events_of_community(
        self, user: Principal, community_id: str, from_: datetime, to: datetime
    ) -> list[Doc]:
        """Occurrences organised or co-hosted by the community that `user` may see,
        starting in [from_, to); NotFound if `user` may not know the community."""
        ...

    async def visible_event(self, user: Principal, event_id: str) -> Doc:
        """The occurrence if `user` may see it; NotFound otherwise."""
        ...

    async def confirmed_events_of(self, user_id: str, from_: datetime, to: datetime) -> list[Doc]:
        """Occurrences starting in [from_, to) where `user_id` has a confirmed place."""
        ...


class CalendarFeedCreated(BaseModel):
    url: str
    token: str


def calendar_source(request: Request) -> CalendarSource:
    source: CalendarSource = request.app.state.calendar_source
    return source


Source = Annotated[CalendarSource, Depends(calendar_source)]
FeedToken = Annotated[str, Path(min_length=1, max_length=128)]
WindowStart = Annotated[datetime | None, Query(alias="from", description="default: 30 days ago")]
WindowEnd = Annotated[datetime | None, Query(description="default: a year from now")]

ICS_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}, "description": "iCalendar"}}

router = APIRouter(prefix="/v1", tags=["calendar"])


def confirmed_event_ids(events: Iterable[Doc], user_id: str) -> set[str]:
    """Events where `user_id` holds a confirmed place: the only ones whose joining link they may see."""
    return {
        event["_id"]
        for event in events
        if any(a["user_id"] == user_id and a["status"] == "confirmed" for a in event.get("attendees", []))
    }


def window(from_: datetime | None, to: datetime | None) -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    start = _aware(from_) if from_ else now - DEFAULT_LOOKBACK
    end = _aware(to) if to else start + DEFAULT_LOOKBACK + DEFAULT_LOOKAHEAD
    if end <= start:
        raise BadRequest("'to' must be after 'from'", field="to")
    if end - start > MAX_WINDOW:
        raise BadRequest(f"the window may span at most {MAX_WINDOW.days} days", field="to")
    return start, end


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # no offset given: UTC


def ics(body: bytes, *, filename: str | None = None) -> Response:
    # Personal content (links depend on the reader): never kept by shared caches.
    headers = {"Cache-Control": "private, no-store"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


@router.get("/communities/{community_id}/calendar.ics", response_class=Response, responses=ICS_RESPONSE)
async def community_calendar(
    source: Source, user: CurrentUser, community_id: CommunityId, from_: WindowStart = None, to: WindowEnd = None
) -> Response:
    """The community's events the caller may see, as iCalendar."""
    start, end = window(from_, to)
    name = await source.community_name(user, community_id)
    events = await source.visible_events_of_community(user, community_id, start, end)
    body = render_calendar(
        events,
        name=name,
        public_base_url=source.public_base_url,
        include_link_for=confirmed_event_ids(events, user.sub),
    )
    return ics(body)


@router.get("/events/{event_id}/calendar.ics", response_class=Response, responses=ICS_RESPONSE)
async def event_calendar(source: Source, user: CurrentUser, event_id: EventId) -> Response:
    """One event as iCalendar, to add to a calendar app."""
    event = await source.visible_event(user, event_id)
    body = render_calendar(
        [event],
        name=event["title"],
        public_base_url=source.public_base_url,
        include_link_for=confirmed_event_ids([event], user.sub),
    )
    return ics(body, filename=f"{event['_id']}.ics")


@router.post("/me/calendar-feed", status_code=status.HTTP_201_CREATED)
async def create_calendar_feed(source: Source, user: CurrentUser, response: Response) -> CalendarFeedCreated:
    """A private feed URL of the caller's confirmed events, for calendar apps to subscribe to.
    Replaces (revokes) the caller's previous feed."""
    token = await source.calendar_feeds.create(user.sub)
    response.headers["Cache-Control"] = "no-store"  # the body holds a credential
    url = f"{source.public_base_url.rstrip('/')}/v1/calendar/{token}.ics"
    return CalendarFeedCreated(url=url, token=token)


@router.delete("/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_calendar_feed(source: Source, user: CurrentUser) -> None:
    """Revoke the caller's feed; its URL stops working at once."""
    await source.calendar_feeds.revoke(user.sub)


@router.get("/calendar/{token}.ics", response_class=Response, responses=ICS_RESPONSE)
async def calendar_feed(source: Source, token: FeedToken) -> Response:
    """The personal feed. No Authorization header: the secret token in the path is
    the credential, because calendar apps subscribe with a bare URL."""
    user_id = await source.calendar_feeds.resolve(token)
    if user_id is None:
        # Same answer for unknown and revoked tokens: nothing to learn by probing.
        raise NotFound("no such calendar feed")
    now = datetime.now(UTC)
    events = await source.confirmed_events_of(user_id, now - DEFAULT_LOOKBACK, now + DEFAULT_LOOKAHEAD)
    body = render_calendar(
        events,
        name="Weft: my events",
        public_base_url=source.public_base_url,
        include_link_for=confirmed_event_ids(events, user_id),
        refresh=FEED_REFRESH,
    )
    return ics(body)
