"""Host tools: `/events/{id}/attendees` (places and waitlist) and `/events/{id}/check-in`,
the phone page at the door: search a name, one tap per person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.events.event_page import mode_label, refusal
from weft_web.pages.events.people_names import member_names
from weft_web.pages.events.when import instant, span_label, zone
from weft_web.rendering import render

router = APIRouter()


@dataclass(frozen=True)
class Guest:
    """One person on the door list: a place-holder, or (when searched) a member walking in."""

    user_id: str
    name: str
    attendance: str | None
    status: str  # confirmed, waitlisted, walk_in (no place yet)
    position: int | None
    checked_in_at: str | None


async def _hosted_event(api: Api, event_id: str) -> dict[str, Any] | None:
    event: dict[str, Any] = await api.get(f"/v1/events/{event_id}")
    return event if event.get("can_manage") else None


async def door_list(api: Api, event: dict[str, Any], query: str = "") -> list[Guest]:
    """Everyone with a place (confirmed first), then, for a search, members without one."""
    listing = await api.get(f"/v1/events/{event['id']}/attendees")
    names = await member_names(api, str(event["community_id"]))
    guests = [
        Guest(
            str(a["user_id"]),
            names.get(str(a["user_id"]), str(a["user_id"])),
            a.get("attendance"),
            str(a["status"]),
            a.get("position"),
            a.get("checked_in_at"),
        )
        for a in listing.get("attendees") or []
    ]
    guests.sort(key=lambda g: (g.status != "confirmed", g.position or 0, g.name.lower()))
    wanted = query.strip().casefold()
    if not wanted:
        return guests
    listed = {g.user_id for g in guests}
    walk_ins = [
        Guest(uid, name, None, "walk_in", None, None)
        for uid, name in sorted(names.items(), key=lambda item: item[1].lower())
        if uid not in listed
    ]
    return [g for g in [*guests, *walk_ins] if wanted in g.name.casefold()]


def _door_context(event: dict[str, Any], guests: list[Guest], query: str) -> dict[str, Any]:
    tz = zone(str(event["timezone"]))
    return {
        "section": "events",
        "event": event,
        "when": span_label(event),
        "guests": guests,
        "query": query,
        "mode_label": mode_label,
        "checked_in_time": lambda g: instant(g.checked_in_at).astimezone(tz).strftime("%H:%M"),
        "checked_in_count": sum(1 for g in guests if g.checked_in_at),
    }


@router.get("/events/{event_id}/attendees", name="attendees")
async def attendees_page(request: Request, person: Person, api: Api, event_id: str) -> Response:
    event = await _hosted_event(api, event_id)
    if event is None:
        return not_found(request)
    guests = await door_list(api, event)
    return render(request, "pages/events/attendees.html", _door_context(event, guests, ""))


@router.get("/events/{event_id}/check-in", name="check_in")
async def check_in_page(request: Request, person: Person, api: Api, event_id: str, q: str = "") -> Response:
    event = await _hosted_event(api, event_id)
    if event is None:
        return not_found(request)
    q = q[:100]
    guests = await door_list(api, event, q)
    # htmx's search-as-you-type asks for the results only.
    template = "partials/events/check_in_results.html" if _is_fragment(request) else "pages/events/check_in.html"
    return render(request, template, _door_context(event, guests, q))


@router.post("/events/{event_id}/check-in")
async def check_in(request: Request, person: Person, api: Api, event_id: str) -> Response:
    event = await _hosted_event(api, event_id)
    if event is None:
        return not_found(request)
    form = await request.form()
    user_id, query = str(form.get("user_id", "")), str(form.get("q", ""))[:100]
    error = None
    try:
        await api.post(f"/v1/events/{event_id}/check-ins", {"user_id": user_id})
    except ApiError as exc:
        if exc.status not in (403, 404, 409, 422):
            raise
        error = refusal(exc.detail)
    guests = await door_list(api, event, query)
    guest = next((g for g in guests if g.user_id == user_id), None)
    if _is_fragment(request):
        # Only this person's row changes: the host's place in the list stays put.
        return render(
            request,
            "partials/events/check_in_row.html",
            {**_door_context(event, guests, query), "guest": guest, "row_error": error, "row_id": user_id},
            status_code=200 if error is None else 409,
        )
    if error is not None:
        context = {**_door_context(event, guests, query), "page_error": error}
        return render(request, "pages/events/check_in.html", context, status_code=409)
    name = guest.name if guest else user_id
    suffix = f"?q={quote(query)}" if query else ""
    return flash.redirect(request, f"/events/{event_id}/check-in{suffix}", _("%(name)s is checked in.", name=name))


def _is_fragment(request: Request) -> bool:
    """An htmx request for part of the page (not a boosted navigation, which wants it all)."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"
