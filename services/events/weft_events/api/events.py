"""Events: scheduling, reading, listing, changing and cancelling them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from weft_events.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, EventId, From, Limit, To
from weft_events.schemas import CreatedEvents, EventCreate, EventPage, EventUpdate, EventView
from weft_events.usecases import events

Series = Annotated[bool, Query(description="Apply to this occurrence and the later ones of its series.")]

router = APIRouter(prefix="/v1", tags=["events"])


@router.post("/communities/{community_id}/events", status_code=status.HTTP_201_CREATED)
async def create_event(ctx: Ctx, me: CurrentPerson, community_id: CommunityId, body: EventCreate) -> CreatedEvents:
    """Schedule an event (owners, facilitators); with `recurrence`, a series of occurrences."""
    return await events.schedule_event(ctx, me, community_id, body)


@router.get("/communities/{community_id}/events")
async def list_events(
    ctx: Ctx,
    me: CurrentPerson,
    community_id: CommunityId,
    from_: From = None,
    to: To = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> EventPage:
    """Upcoming events by default (`from` = now); only those the caller may see."""
    return await events.list_community_events(ctx, me, community_id, start=from_, end=to, cursor=cursor, limit=limit)


@router.get("/events/{event_id}")
async def get_event(ctx: Ctx, me: CurrentPerson, event_id: EventId) -> EventView:
    """One occurrence, with seats left and the caller's own RSVP."""
    return await events.get_event(ctx, me, event_id)


@router.patch("/events/{event_id}")
async def update_event(
    ctx: Ctx, me: CurrentPerson, event_id: EventId, body: EventUpdate, series: Series = False
) -> EventView:
    return await events.update_event(ctx, me, event_id, body, series=series)


@router.post("/events/{event_id}/cancel")
async def cancel_event(ctx: Ctx, me: CurrentPerson, event_id: EventId, series: Series = False) -> EventView:
    return await events.cancel_event(ctx, me, event_id, series=series)
