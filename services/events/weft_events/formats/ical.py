"""Occurrences as an RFC 5545 calendar (METHOD:PUBLISH). Pure: no I/O.

Each stored occurrence becomes its own VEVENT with its own UID: that is how the
service models a series (every occurrence has its own seats and RSVPs), so a
calendar never needs RRULE/RECURRENCE-ID bookkeeping; the series is named in
`X-WEFT-SERIES-ID`.

Rendering never fails on stored data, whatever it holds: text written before
inputs refused control characters (or by a script) may hold a NUL or a newline,
and a time may be near the end of the calendar. Every text value goes out as an
escaped TEXT value (RFC 5545 3.3.11) with the control characters that TEXT does
not allow removed, and a line break in a one-line property is a space.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Set
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vDuration, vText, vUri

Doc = dict[str, Any]

PRODID = "-//Weft//Weft events//EN"

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x85\u2028\u2029]")
# TEXT allows HTAB but no other control character; a newline is written escaped (\\n).
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_NOT_IN_URI = re.compile(r"[\x00-\x20\x7f-\x9f]")


def event_uid(event_id: str) -> str:
    """Stable across renders and edits, so calendar apps update rather than duplicate."""
    return f"{event_id}@weft"


def event_url(public_base_url: str, event_id: str) -> str:
    return f"{public_base_url.rstrip('/')}/v1/events/{event_id}"


def render_calendar(
    events: Iterable[Doc],
    *,
    name: str,
    public_base_url: str,
    include_link_for: Set[str],
    stamp: datetime | None = None,
    refresh: timedelta | None = None,
) -> bytes:
    """A VCALENDAR of `events` (documents of the `events` collection).

    `include_link_for`: ids of the events whose joining link may be shown, i.e.
    where the reader has a confirmed place. There is no default on purpose:
    every caller has to decide who sees links.
    `stamp`: DTSTAMP (when this calendar was produced); now if not given.
    `refresh`: how often subscribers should poll (feeds); omitted if None.
    """
    stamp = stamp or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", one_line(name))
    calendar.add("NAME", one_line(name))  # RFC 7986 spelling of the same
    if refresh is not None:
        calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
        # What Outlook and older Apple clients read. An X- property has no declared type, so icalendar
        # would write str(timedelta) ("1:00:00"): give it the DURATION value (PT1H) itself.
        calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    ordered = sorted(events, key=lambda e: (e["starts_at"], e["_id"]))
    for event in ordered:
        calendar.add_component(
            _vevent(event, public_base_url=public_base_url, with_link=event["_id"] in include_link_for, stamp=stamp)
        )
    if ordered:
        # VTIMEZONE observances only for the years the events span: the full default
        # range (1970-2038) would add kilobytes to every feed for nothing.
        first = _year_of(min(e["starts_at"] for e in ordered), -1)
        last = _year_of(max(e["ends_at"] for e in ordered), +1)
        calendar.add_missing_timezones(first_date=date(first, 1, 1), last_date=date(min(last + 1, MAXYEAR), 1, 1))
    result: bytes = calendar.to_ical()
    return result


def one_line(value: str) -> vText:
    """A one-line TEXT value: line breaks become spaces, other controls go."""
    return vText(_NOT_IN_TEXT.sub("", _LINE_BREAKS.sub(" ", value).replace("\t", " ")))


def multi_line(value: str) -> vText:
    """A TEXT value that keeps its lines (written as escaped \\n) and tabs; other controls go."""
    lines = _LINE_BREAKS.split(value)
    return vText("\n".join(_NOT_IN_TEXT.sub("", line) for line in lines))


def _uri(value: str) -> vUri:
    # A URI has no spaces or controls; percent-encode any that old data holds.
    return vUri(_NOT_IN_URI.sub(lambda m: quote(m.group()), value))


def _year_of(moment: datetime, days: int) -> int:
    """The year of `moment` moved by `days`, kept inside what `datetime` can hold."""
    try:
        return (moment + timedelta(days=days)).year
    except OverflowError:
        return MINYEAR if days < 0 else MAXYEAR


def _local(moment: datetime, zone: tzinfo) -> datetime:
    # Within a day of year 1 or 9999, the wall time of some zones is not a `datetime`: keep it in UTC.
    try:
        return moment.astimezone(zone)
    except OverflowError:
        return moment.astimezone(UTC)


def _zone(name: str) -> tzinfo:
    # Timezones are validated when an event is written; a name this machine's
    # tz database lacks still renders, as UTC (same instant, no VTIMEZONE needed).
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _vevent(event: Doc, *, public_base_url: str, with_link: bool, stamp: datetime) -> Event:
    zone = _zone(event["timezone"])
    cancelled = event.get("status") == "cancelled"
    url = event_url(public_base_url, event["_id"])
    # A cancelled event's link is of no use, so it is never shown, confirmed or not.
    link = event.get("joining_link") if with_link and not cancelled else None

    vevent = Event()
    vevent.add("UID", one_line(event_uid(event["_id"])))
    vevent.add("DTSTAMP", stamp)
    vevent.add("SEQUENCE", int(event.get("sequence", 0)))
    # Local wall time with TZID: calendar apps then keep the meeting at its
    # local time, and the VTIMEZONE tells those without a tz database the offsets.
    vevent.add("DTSTART", _local(event["starts_at"], zone))
    vevent.add("DTEND", _local(event["ends_at"], zone))
    # Several calendar apps (Google's among them) ignore STATUS on subscribed
    # calendars, so the title says it too.
    vevent.add("SUMMARY", one_line(f"Cancelled: {event['title']}" if cancelled else event["title"]))
    vevent.add("STATUS", "CANCELLED" if cancelled else "CONFIRMED")
    if cancelled:
        vevent.add("TRANSP", "TRANSPARENT")  # a cancelled meeting doesn't make anyone busy
    vevent.add("DESCRIPTION", multi_line(_description(event, link, url)))
    location = _location(event)
    if location:
        vevent.add("LOCATION", one_line(location))
    vevent.add("URL", _uri(url))
    if link:
        vevent.add("CONFERENCE", _uri(link), parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Join online"})
    if event.get("created_at"):
        vevent.add("CREATED", event["created_at"])
    if event.get("updated_at"):
        vevent.add("LAST-MODIFIED", event["updated_at"])
    vevent.add("X-WEFT-COMMUNITY-ID", one_line(event["community_id"]))
    if event.get("series_id"):
        vevent.add("X-WEFT-SERIES-ID", one_line(event["series_id"]))
        vevent.add("X-WEFT-OCCURRENCE-INDEX", one_line(str(event.get("occurrence_index", 0))))
    return vevent


def _location(event: Doc) -> str | None:
    venue: str | None = event.get("venue")
    if event["format"] == "online":
        return venue or "Online"
    if event["format"] == "hybrid" and venue:
        return f"{venue} (or online)"
    return venue


def _description(event: Doc, link: str | None, url: str) -> str:
    # Clients that don't show CONFERENCE or URL still show the description.
    parts = [event.get("description", "").strip()]
    speakers = event.get("guest_speakers") or []
    if speakers:
        parts.append("Guest speakers: " + ", ".join(speakers))
    if link:
        parts.append(f"Join online: {link}")
    parts.append(f"Details: {url}")
    return "\n\n".join(p for p in parts if p)
