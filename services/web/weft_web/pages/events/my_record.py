"""`/me/attendance` (the CPD record: events attended, hours, a CSV) and `/me/calendar`
(the private feed URL calendar apps subscribe to)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.rendering import render

router = APIRouter()

# One person's record is small; this bounds the page's calls if it is not.
_PAGE, _MOST_PAGES = 100, 20


async def whole_record(api: Api) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    for _page in range(_MOST_PAGES):
        page = await api.get("/v1/me/attendance", cursor=cursor, limit=_PAGE)
        entries.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return entries


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") if minutes % 60 else str(minutes // 60)


@router.get("/me/attendance", name="my_attendance")
async def attendance_page(request: Request, person: Person, api: Api) -> Response:
    entries = await whole_record(api)
    total = sum(int(e["duration_minutes"]) for e in entries)
    return render(
        request,
        "pages/events/attendance.html",
        {"section": "me", "entries": entries, "total_hours": hours(total), "hours": hours},
    )


@router.get("/me/attendance.csv", name="my_attendance_csv")
async def attendance_csv(request: Request, person: Person, api: Api) -> Response:
    upstream = await api.request("GET", "/v1/me/attendance.csv", headers={"Accept": "text/csv"})
    disposition = upstream.headers.get("content-disposition", 'attachment; filename="weft-attendance.csv"')
    return Response(
        upstream.content, media_type="text/csv; charset=utf-8", headers={"content-disposition": disposition}
    )


@router.get("/me/calendar", name="my_calendar")
async def calendar_page(request: Request, person: Person) -> Response:
    return render(request, "pages/events/calendar_feed.html", {"section": "me", "feed_url": None})


@router.post("/me/calendar")
async def create_feed(request: Request, person: Person, api: Api) -> Response:
    created = await api.post("/v1/me/calendar-feed")
    # Shown once, in this answer: the URL is a credential, so it goes in no cookie or redirect.
    return render(request, "pages/events/calendar_feed.html", {"section": "me", "feed_url": created["url"]})


@router.post("/me/calendar/revoke")
async def revoke_feed(request: Request, person: Person, api: Api) -> Response:
    try:
        await api.delete("/v1/me/calendar-feed")
    except ApiError as exc:
        if exc.status != 404:
            raise
        return flash.redirect(request, "/me/calendar", _("You had no feed to revoke."), level="info")
    return flash.redirect(request, "/me/calendar", _("Your feed is revoked: its URL no longer works."))
