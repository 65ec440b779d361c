"""`/events` (my events: a list, or a month), `/communities/{id}/events` and scheduling one."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import CommunityFrame, community_frame
from weft_web.pages.events import schedule_form
from weft_web.pages.events.event_lists import community_events, my_events
from weft_web.pages.events.month import Month
from weft_web.pages.events.when import month_name, span_label, weekday_names
from weft_web.rendering import render

router = APIRouter()


@router.get("/events", name="my_events")
async def events_page(request: Request, person: Person, api: Api, month: str | None = None) -> Response:
    now = datetime.now(UTC)
    if month is None:
        events = await my_events(api, start=now)
        return render(
            request, "pages/events/my_events.html", {"section": "events", "events": events, "span_label": span_label}
        )
    shown = Month.parse(month, now.date())
    start, end = shown.window()
    weeks = shown.weeks(await my_events(api, start=start, end=end))
    return render(
        request,
        "pages/events/month.html",
        {
            "section": "events",
            "month": shown,
            "title": f"{month_name(shown.month)} {shown.year}",
            "previous_title": f"{month_name(shown.previous.month)} {shown.previous.year}",
            "next_title": f"{month_name(shown.next.month)} {shown.next.year}",
            "weeks": weeks,
            "weekdays": weekday_names(),
            "count": sum(len(day.events) for week in weeks for day in week),
        },
    )


@router.get("/communities/{community_id}/events", name="community_events")
async def community_events_page(request: Request, person: Person, api: Api, community_id: str) -> Response:
    frame = await community_frame(api, community_id)
    events = await community_events(api, community_id, start=datetime.now(UTC))
    return render(
        request,
        "pages/events/community_events.html",
        {**frame.context("events"), "events": events, "span_label": span_label},
    )


@router.get("/communities/{community_id}/events/new", name="schedule_event")
async def schedule_page(request: Request, person: Person, api: Api, community_id: str) -> Response:
    frame = await community_frame(api, community_id)
    if not frame.is_staff:
        return not_found(request)
    values = {"format": "in_person", "timezone": schedule_form.DEFAULT_TIMEZONE}
    return _schedule_form(request, frame, values, FormErrors())


@router.post("/communities/{community_id}/events/new")
async def schedule(request: Request, person: Person, api: Api, community_id: str) -> Response:
    frame = await community_frame(api, community_id)
    if not frame.is_staff:
        return not_found(request)
    values = schedule_form.form_data(await request.form())
    body, errors = schedule_form.read(values)
    if not errors:
        try:
            created = await api.post(f"/v1/communities/{community_id}/events", body)
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            errors = FormErrors.from_api(exc, schedule_form.API_FIELDS)
        else:
            return flash.redirect(request, f"/events/{created['id']}", _("The event is scheduled."))
    return _schedule_form(request, frame, values, errors, status_code=422)


def _schedule_form(
    request: Request, frame: CommunityFrame, values: dict[str, str], errors: FormErrors, *, status_code: int = 200
) -> Response:
    return render(
        request,
        "pages/events/schedule.html",
        {
            **frame.context("events"),
            "values": values,
            "errors": errors.messages,
            "formats": schedule_form.format_options(),
        },
        status_code=status_code,
    )
