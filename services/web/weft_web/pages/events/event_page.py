"""`/events/{id}`: what, when, where; the viewer's place (RSVP, waitlist, cancel); the .ics;
and the hosts' edit and cancel. The RSVP panel is also a fragment that refreshes live."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.events import schedule_form
from weft_web.pages.events.when import span_label
from weft_web.rendering import render

router = APIRouter()

MODES = {"in_person": ("in_person",), "online": ("online",), "hybrid": ("in_person", "online")}


def mode_label(mode: str) -> str:
    return _("in person") if mode == "in_person" else _("online")


def refusal(detail: str) -> str:
    """The API's reason ("this event is cancelled") as a sentence for the page."""
    text = detail.strip() or _("That did not work.")
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def panel_context(event: dict[str, Any], *, error: str | None = None) -> dict[str, Any]:
    """What the RSVP panel shows: the viewer's place, or a button per way to attend."""
    offers = []
    for mode in MODES.get(str(event["format"]), ()):
        left = (event.get("seats_left") or {}).get(mode)
        offers.append({"mode": mode, "label": mode_label(mode), "seats_left": left, "full": left == 0})
    return {
        "event": event,
        "offers": offers,
        "rsvp": event.get("my_rsvp"),
        "mode_label": mode_label,
        "rsvp_error": refusal(error) if error else None,
    }


async def _event_page(
    request: Request, api: Api, event_id: str, *, error: str | None = None, status_code: int = 200
) -> Response:
    event = await api.get(f"/v1/events/{event_id}")
    try:
        community: dict[str, Any] | None = await api.get(f"/v1/communities/{event['community_id']}")
    except ApiError:
        community = None  # a partner's or public event: the organiser's page may be closed to the viewer
    return render(
        request,
        "pages/events/event.html",
        {"section": "events", "community": community, "when": span_label(event), **panel_context(event, error=error)},
        status_code=status_code,
    )


@router.get("/events/{event_id}", name="event")
async def event_page(request: Request, person: Person, api: Api, event_id: str) -> Response:
    return await _event_page(request, api, event_id)


@router.get("/events/{event_id}/rsvp-panel", name="rsvp_panel")
async def rsvp_panel(request: Request, person: Person, api: Api, event_id: str) -> Response:
    event = await api.get(f"/v1/events/{event_id}")
    return render(request, "partials/events/rsvp_panel.html", panel_context(event))


@router.post("/events/{event_id}/rsvp")
async def take_place(request: Request, person: Person, api: Api, event_id: str) -> Response:
    form = await request.form()
    attendance = form.get("attendance")
    try:
        place = await api.put(f"/v1/events/{event_id}/rsvp", {"attendance": attendance})
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return await _event_page(
            request, api, event_id, error=exc.fields.get("attendance", exc.detail), status_code=exc.status
        )
    if place["status"] == "confirmed":
        message = _("You have a place.")
    else:
        message = _("You are on the waitlist: number %(n)s.", n=place.get("position") or "?")
    return flash.redirect(request, f"/events/{event_id}", message)


@router.post("/events/{event_id}/rsvp/cancel")
async def give_up_place(request: Request, person: Person, api: Api, event_id: str) -> Response:
    try:
        await api.delete(f"/v1/events/{event_id}/rsvp")
    except ApiError as exc:
        if exc.status != 409:
            raise
        return await _event_page(request, api, event_id, error=exc.detail, status_code=409)
    return flash.redirect(request, f"/events/{event_id}", _("Your place is cancelled."))


@router.get("/events/{event_id}/calendar.ics", name="event_ics")
async def event_ics(request: Request, person: Person, api: Api, event_id: str) -> Response:
    upstream = await api.request("GET", f"/v1/events/{event_id}/calendar.ics", headers={"Accept": "text/calendar"})
    return Response(
        upstream.content,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="weft-event-{_safe(event_id)}.ics"'},
    )


@router.get("/events/{event_id}/edit", name="edit_event")
async def edit_page(request: Request, person: Person, api: Api, event_id: str) -> Response:
    event = await api.get(f"/v1/events/{event_id}")
    if not event.get("can_manage"):
        return not_found(request)
    return _edit_form(request, event, schedule_form.values_of(event), FormErrors())


@router.post("/events/{event_id}/edit")
async def edit(request: Request, person: Person, api: Api, event_id: str) -> Response:
    event = await api.get(f"/v1/events/{event_id}")
    if not event.get("can_manage"):
        return not_found(request)
    values = schedule_form.form_data(await request.form())
    body, errors = schedule_form.read(values)
    if not errors:
        try:
            await api.patch(f"/v1/events/{event_id}", body)
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            errors = FormErrors.from_api(exc, schedule_form.API_FIELDS)
        else:
            return flash.redirect(request, f"/events/{event_id}", _("The event is changed."))
    return _edit_form(request, event, values, errors, status_code=422)


@router.post("/events/{event_id}/cancel")
async def cancel_event(request: Request, person: Person, api: Api, event_id: str) -> Response:
    try:
        await api.post(f"/v1/events/{event_id}/cancel")
    except ApiError as exc:
        if exc.status != 409:
            raise
        return await _event_page(request, api, event_id, error=exc.detail, status_code=409)
    return flash.redirect(request, f"/events/{event_id}", _("The event is cancelled. Everyone with a place is told."))


def _edit_form(
    request: Request, event: dict[str, Any], values: dict[str, str], errors: FormErrors, *, status_code: int = 200
) -> Response:
    return render(
        request,
        "pages/events/edit.html",
        {
            "section": "events",
            "event": event,
            "values": values,
            "errors": errors.messages,
            "formats": schedule_form.format_options(),
        },
        status_code=status_code,
    )


def _safe(value: str) -> str:
    return "".join(c for c in value if c.isalnum() or c in "-_")[:64] or "event"
