"""RSVPs: a place at an event (a seat or the waitlist), and the hosts' list."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from weft_events.api.deps import Ctx, CurrentPerson, EventId
from weft_events.schemas import AttendeesView, RsvpBody, RsvpView
from weft_events.usecases import rsvps

router = APIRouter(prefix="/v1", tags=["rsvp"])


@router.put("/events/{event_id}/rsvp", responses={201: {"description": "new or changed RSVP"}})
async def put_rsvp(ctx: Ctx, me: CurrentPerson, event_id: EventId, body: RsvpBody, response: Response) -> RsvpView:
    """`confirmed` while that mode has seats, else `waitlisted` with a position. Idempotent."""
    result, changed = await rsvps.rsvp(ctx, me, event_id, body.attendance)
    response.status_code = status.HTTP_201_CREATED if changed else status.HTTP_200_OK
    return result


@router.delete("/events/{event_id}/rsvp", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rsvp(ctx: Ctx, me: CurrentPerson, event_id: EventId) -> None:
    """Cancel; the first waitlisted person for that mode is promoted at once."""
    await rsvps.withdraw(ctx, me, event_id)


@router.get("/events/{event_id}/attendees")
async def get_attendees(ctx: Ctx, me: CurrentPerson, event_id: EventId) -> AttendeesView:
    """Hosts see who is confirmed and waitlisted; others see counts."""
    return await rsvps.attendees(ctx, me, event_id)
