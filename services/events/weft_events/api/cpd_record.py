"""The caller's CPD record (`/me/attendance`): the events they were checked in at."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from weft_events.api.deps import Ctx, CurrentPerson, Cursor, From, Limit, To
from weft_events.formats.cpd_record_csv import render_csv
from weft_events.schemas import CpdRecordPage
from weft_events.usecases import cpd_record
from weft_shared.service.clock import now

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "CSV, header row"}}

router = APIRouter(prefix="/v1", tags=["attendance"])


@router.get("/me/attendance")
async def my_attendance(
    ctx: Ctx, me: CurrentPerson, from_: From = None, to: To = None, cursor: Cursor = None, limit: Limit = 20
) -> CpdRecordPage:
    """Events the caller was checked in at, newest first: evidence for professional development."""
    return await cpd_record.cpd_record_page(ctx, me, start=from_, end=to, cursor=cursor, limit=limit)


@router.get("/me/attendance.csv", response_class=Response, responses=CSV_RESPONSE)
async def my_attendance_csv(ctx: Ctx, me: CurrentPerson, from_: From = None, to: To = None) -> Response:
    """The whole record as a spreadsheet. Built in memory rather than streamed: one
    person's record is small, and an error can still be a problem+json."""
    entries = [e async for e in cpd_record.whole_cpd_record(ctx, me, start=from_, end=to)]
    filename = f"weft-attendance-{now().date().isoformat()}.csv"
    return Response(
        render_csv(entries),
        media_type="text/csv; charset=utf-8; header=present",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
