"""Calendars as iCalendar: a community's, one event's, and the caller's private feed
(with the routes that create and revoke it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel

from weft_events.api.deps import CommunityId, Ctx, CurrentPerson, EventId
from weft_events.formats.ical import render_calendar
from weft_events.usecases import calendars
from weft_events.usecases.calendars import CalendarContent
from weft_shared.service.times import Instant

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
FEED_REFRESH = timedelta(hours=1)
ICS_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}, "description": "iCalendar"}}

FeedToken = Annotated[str, Path(min_length=1, max_length=128)]
WindowStart = Annotated[Instant | None, Query(alias="from", description="default: 30 days ago")]
WindowEnd = Annotated[Instant | None, Query(description="default: a year from now")]

router = APIRouter(prefix="/v1", tags=["calendar"])


class CalendarFeedCreated(BaseModel):
    url: str
    token: str


def ics(
    ctx: Ctx, content: CalendarContent, *, filename: str | None = None, refresh: timedelta | None = None
) -> Response:
    body = render_calendar(
        content.events,
        name=content.name,
        public_base_url=ctx.settings.public_base_url,
        include_link_for=content.joining_link_for,
        refresh=refresh,
    )
    # Personal content (links depend on the reader): never kept by shared caches.
    headers = {"Cache-Control": "private, no-store"}
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(body, media_type=CALENDAR_MEDIA_TYPE, headers=headers)


@router.get("/communities/{community_id}/calendar.ics", response_class=Response, responses=ICS_RESPONSE)
async def community_calendar(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, from_: WindowStart = None, to: WindowEnd = None
) -> Response:
    """The community's events the caller may see, as iCalendar."""
    start, end = calendars.calendar_window(from_, to)
    return ics(ctx, await calendars.community_calendar(ctx, me, community_id, start=start, end=end))


@router.get("/events/{event_id}/calendar.ics", response_class=Response, responses=ICS_RESPONSE)
async def event_calendar(ctx: Ctx, me: CurrentPerson, event_id: EventId) -> Response:
    """One event as iCalendar, to add to a calendar app."""
    return ics(ctx, await calendars.event_calendar(ctx, me, event_id), filename=f"{event_id}.ics")


@router.post("/me/calendar-feed", status_code=status.HTTP_201_CREATED)
async def create_calendar_feed(ctx: Ctx, me: CurrentPerson, response: Response) -> CalendarFeedCreated:
    """A private feed URL of the caller's confirmed events, for calendar apps to subscribe to.
    Replaces (revokes) the caller's previous feed."""
    token = await calendars.create_feed(ctx, me)
    response.headers["Cache-Control"] = "no-store"  # the body holds a credential
    url = f"{ctx.settings.public_base_url.rstrip('/')}/v1/calendar/{token}.ics"
    return CalendarFeedCreated(url=url, token=token)


@router.delete("/me/calendar-feed", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_calendar_feed(ctx: Ctx, me: CurrentPerson) -> None:
    """Revoke the caller's feed; its URL stops working at once."""
    await calendars.revoke_feed(ctx, me)


@router.get("/calendar/{token}.ics", response_class=Response, responses=ICS_RESPONSE)
async def calendar_feed(ctx: Ctx, token: FeedToken) -> Response:
    """The personal feed. No Authorization header: the secret token in the path is
    the credential, because calendar apps subscribe with a bare URL."""
    return ics(ctx, await calendars.feed_calendar(ctx, token), refresh=FEED_REFRESH)
