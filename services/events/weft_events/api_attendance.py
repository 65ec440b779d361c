"""Attendance routes: hosts check people in; people read (and export) their CPD record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime

from weft_events.api import Ctx, EventId
from weft_events.attendance_csv import render_csv
from weft_events.schemas import AttendancePage, CheckInBody, CheckInView
from weft_events.usecases import attendance, checkins
from weft_shared.auth import CurrentUser

From = Annotated[AwareDatetime | None, Query(alias="from", description="events starting at or after this")]
To = Annotated[AwareDatetime | None, Query(description="events starting before this")]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "CSV, header row"}}

router = APIRouter(prefix="/v1", tags=["attendance"])


@router.post(
    "/events/{event_id}/check-ins",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "already checked in: the existing record, unchanged"}},
)
async def check_in(
    ctx: Ctx, user: CurrentUser, event_id: EventId, body: CheckInBody, response: Response
) -> CheckInView:
    """Hosts record that someone attended, from 30 minutes before the start. A person
    without a confirmed place who could have booked one is checked in as a walk-in."""
    record, created = await checkins.check_in(ctx, user, event_id, body.user_id)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return record


@router.get("/me/attendance")
async def my_attendance(
    ctx: Ctx,
    user: CurrentUser,
    from_: From = None,
    to: To = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AttendancePage:
    """Events the caller was checked in at, newest first: evidence for professional development."""
    return await attendance.my_attendance(ctx, user.sub, start=from_, end=to, cursor=cursor, limit=limit)


@router.get("/me/attendance.csv", response_class=Response, responses=CSV_RESPONSE)
async def my_attendance_csv(ctx: Ctx, user: CurrentUser, from_: From = None, to: To = None) -> Response:
    """The whole record as a spreadsheet. Built in memory rather than streamed: one
    person's attendance is small, and an error can still be a problem+json."""
    records = [r async for r in attendance.all_attendance(ctx, user.sub, start=from_, end=to)]
    filename = f"weft-attendance-{datetime.now(UTC).date().isoformat()}.csv"
    return Response(
        render_csv(records),
        media_type="text/csv; charset=utf-8; header=present",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
