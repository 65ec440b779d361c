"""Check-ins: hosts record who came."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from weft_events.api.deps import Ctx, CurrentPerson, EventId
from weft_events.schemas import CheckInBody, CheckInView
from weft_events.usecases import check_ins

router = APIRouter(prefix="/v1", tags=["attendance"])


@router.post(
    "/events/{event_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already checked in: the existing record, unchanged"}},
)
async def check_in(
    ctx: Ctx, me: CurrentPerson, event_id: EventId, body: CheckInBody, response: Response
) -> CheckInView:
    """Hosts record that someone attended, from 30 minutes before the start. A person
    without a confirmed place who could have booked one is checked in as a walk-in."""
    record, created = await check_ins.check_in(ctx, me, event_id, body.user_id)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return record
