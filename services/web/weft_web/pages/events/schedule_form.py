"""The "Schedule an event" form (and its edit twin): form fields <-> the events API's body.

Times are typed on the event's own wall clock (`datetime-local` + an IANA zone) and sent as
instants, so a host in London scheduling for Belfast or Lisbon gets what they meant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weft_web.forms import FieldError, FormErrors, clean_line, clean_text
from weft_web.i18n import _
from weft_web.pages.events.when import local

DEFAULT_TIMEZONE = "Europe/London"
FORMATS = ("in_person", "online", "hybrid")
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"

# The API's field names -> this form's, so a refusal is shown beside the right field.
API_FIELDS = {
    "title": "title",
    "description": "description",
    "format": "format",
    "timezone": "timezone",
    "starts_at": "starts_at",
    "ends_at": "ends_at",
    "venue": "venue",
    "joining_link": "joining_link",
    "capacity.in_person": "capacity_in_person",
    "capacity.online": "capacity_online",
    "capacity": "capacity_in_person",
}


def format_options() -> list[tuple[str, str]]:
    return [("in_person", _("In person")), ("online", _("Online")), ("hybrid", _("Hybrid (in person and online)"))]


def _timezone(value: str) -> str:
    value = clean_line(value, label=_("Time zone"), max_length=64)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FieldError(_("Enter a time zone like Europe/London.")) from exc
    return value


def _local_time(value: str, *, label: str) -> datetime:
    value = value.strip()
    if not value:
        raise FieldError(_("Enter %(label)s.", label=label.lower()))
    try:
        return datetime.strptime(value[:16], _LOCAL_FORMAT)
    except ValueError as exc:
        raise FieldError(_("Enter a date and time like 2026-12-01T18:30.")) from exc


def _seats(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > 100_000:
        raise FieldError(_("Enter a whole number of places from 0 to 100000, or leave it empty for no limit."))
    return int(value)


def _link(value: str) -> str:
    value = clean_line(value, label=_("Joining link"), max_length=2000, required=False)
    if value and not value.startswith(("https://", "http://")):
        raise FieldError(_("Enter a link that starts with https://."))
    return value


def read(form: dict[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The API body for the submitted form, and what is wrong with it (falsy when nothing)."""
    errors = FormErrors()
    title = errors.check("title", clean_line, form.get("title", ""), label=_("Title"), max_length=200)
    description = errors.check(
        "description", clean_text, form.get("description", ""), label=_("Description"), max_length=10_000
    )
    event_format = form.get("format", "")
    if event_format not in FORMATS:
        errors.add("format", _("Choose in person, online or hybrid."))
    timezone = errors.check("timezone", _timezone, form.get("timezone", ""))
    starts = errors.check("starts_at", _local_time, form.get("starts_at", ""), label=_("Starts"))
    ends = errors.check("ends_at", _local_time, form.get("ends_at", ""), label=_("Ends"))
    venue = errors.check("venue", clean_line, form.get("venue", ""), label=_("Venue"), max_length=300, required=False)
    link = errors.check("joining_link", _link, form.get("joining_link", ""))
    in_person = errors.check("capacity_in_person", _seats, form.get("capacity_in_person", ""))
    online = errors.check("capacity_online", _seats, form.get("capacity_online", ""))
    if isinstance(starts, datetime) and isinstance(ends, datetime) and ends <= starts:
        errors.add("ends_at", _("The end must be after the start."))
    if event_format in ("in_person", "hybrid") and not venue:
        errors.add("venue", _("Enter the venue: an in-person or hybrid event needs one."))
    if event_format in ("online", "hybrid") and not link:
        errors.add("joining_link", _("Enter the joining link: an online or hybrid event needs one."))
    if errors:
        return {}, errors
    zone = ZoneInfo(timezone)
    body: dict[str, Any] = {
        "title": title,
        "description": description,
        "format": event_format,
        "timezone": timezone,
        "starts_at": starts.replace(tzinfo=zone).isoformat(),
        "ends_at": ends.replace(tzinfo=zone).isoformat(),
        "venue": venue or None,
        "joining_link": link or None,
        "capacity": {
            "in_person": in_person if event_format != "online" else None,
            "online": online if event_format != "in_person" else None,
        },
    }
    return body, errors


def values_of(event: dict[str, Any]) -> dict[str, str]:
    """An event as the form's values, for the edit page."""
    capacity = event.get("capacity") or {}
    return {
        "title": event["title"],
        "description": event.get("description") or "",
        "format": event["format"],
        "timezone": event["timezone"],
        "starts_at": local(event, "starts_at").strftime(_LOCAL_FORMAT),
        "ends_at": local(event, "ends_at").strftime(_LOCAL_FORMAT),
        "venue": event.get("venue") or "",
        "joining_link": event.get("joining_link") or "",
        "capacity_in_person": "" if capacity.get("in_person") is None else str(capacity["in_person"]),
        "capacity_online": "" if capacity.get("online") is None else str(capacity["online"]),
    }


def form_data(raw: Any) -> dict[str, str]:
    """A submitted form's text fields."""
    return {key: value for key, value in raw.items() if isinstance(value, str)}
