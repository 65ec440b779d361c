"""Thin HTTP routes of the events service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import AwareDatetime

from weft_events.schemas import (
    AttendeesView,
    CreatedEvents,
    EventCreate,
    EventPage,
    EventUpdate,
    EventView,
    RsvpBody,
    RsvpView,
)
from weft_events.usecases import events, rsvps
from weft_events.usecases.context import Context
from weft_shared.auth import CurrentUser


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(context)]
CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
EventId = Annotated[str, Path(min_length=1, max_length=64)]
Series = Annotated[bool, Query(description="Apply to this occurrence and the later ones of its series.")]

router = APIRouter(prefix="/v1")


@router.post("/communities/{community_id}/events", status_code=status.HTTP_201_CREATED, tags=["events"])
async def create_event(ctx: Ctx, user: CurrentUser, community_id: CommunityId, body: EventCreate) -> CreatedEvents:
    """Schedule an event (owners, facilitators); with `recurrence`, a series of occurrences."""
    return await events.create_event(ctx, user, community_id, body)


@router.get("/communities/{community_id}/events", tags=["events"])
async def list_events(
    ctx: Ctx,
    user: CurrentUser,
    community_id: CommunityId,
    from_: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    to: AwareDatetime | None = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> EventPage:
    """Upcoming events by default (`from` = now); only those the caller may see."""
    start: datetime | None = from_
    return await events.list_community_events(ctx, user, community_id, start=start, end=to, cursor=cursor, limit=limit)


@router.get("/events/{event_id}", tags=["events"])
async def get_event(ctx: Ctx, user: CurrentUser, event_id: EventId) -> EventView:
    """One occurrence, with seats left and the caller's own RSVP."""
    return await events.get_event(ctx, user, event_id)


@router.patch("/events/{event_id}", tags=["events"])
async def update_event(
    ctx: Ctx, user: CurrentUser, event_id: EventId, body: EventUpdate, series: Series = False
) -> EventView:
    return await events.update_event(ctx, user, event_id, body, series=series)


@router.post("/events/{event_id}/cancel", tags=["events"])
async def cancel_event(ctx: Ctx, user: CurrentUser, event_id: EventId, series: Series = False) -> EventView:
    view = await events.cancel_event(ctx, user, event_id, series=series)
    assert view is not None
    return view


@router.put("/events/{event_id}/rsvp", tags=["rsvp"], responses={201: {"description": "new or changed RSVP"}})
async def put_rsvp(ctx: Ctx, user: CurrentUser, event_id: EventId, body: RsvpBody, response: Response) -> RsvpView:
    """`confirmed` while that mode has seats, else `waitlisted` with a position. Idempotent."""
    result, changed = await rsvps.rsvp(ctx, user, event_id, body.attendance.value)
    response.status_code = status.HTTP_201_CREATED if changed else status.HTTP_200_OK
    return result


@router.delete("/events/{event_id}/rsvp", status_code=status.HTTP_204_NO_CONTENT, tags=["rsvp"])
async def delete_rsvp(ctx: Ctx, user: CurrentUser, event_id: EventId) -> None:
    """Cancel; the first waitlisted person for that mode is promoted at once."""
    await rsvps.withdraw(ctx, user, event_id)


@router.get("/events/{event_id}/attendees", tags=["rsvp"])
async def get_attendees(ctx: Ctx, user: CurrentUser, event_id: EventId) -> AttendeesView:
    """Hosts see who is confirmed and waitlisted; others see counts."""
    return await rsvps.attendees(ctx, user, event_id)
