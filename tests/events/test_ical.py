"""Rendering occurrences to iCalendar, read back with a real parser (icalendar)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, vDuration

from tests.events.conftest import occurrence_document
from weft_events.formats.ical import event_uid, render_calendar

BASE = "https://weft.example.org"
STAMP = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
LINK = "https://meet.example.org/room-42?pwd=s3cret"


def occurrence(_id: str, starts_at: datetime, **fields: Any) -> dict[str, Any]:
    """An `events` document as in services/events/DOCUMENTS.md."""
    start = starts_at.astimezone(UTC)
    described = {
        "_id": _id,
        "title": "Falls prevention practice circle",
        "description": "Sharing what works; bring a case.",
        "ends_at": start + timedelta(hours=1, minutes=30),
        "venue": "Room 2, Civic Centre, Leeds",
        "capacity": {"in_person": 20, "online": None},
        "hosts": ["u-host"],
        "created_by": "u-host",
        "created_at": datetime(2026, 2, 1, 12, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 2, 2, 12, 0, tzinfo=UTC),
    }
    return occurrence_document(start, **{**described, **fields})


# A weekly series at 18:00 London time across the clocks going forward (29 March 2026):
# 18:00 GMT (18:00Z) before, 18:00 BST (17:00Z) after.
BEFORE_DST = occurrence(
    "e-series-0", datetime(2026, 3, 24, 18, 0, tzinfo=LONDON), series_id="s1", occurrence_index=0, sequence=2
)
AFTER_DST = occurrence(
    "e-series-1", datetime(2026, 3, 31, 18, 0, tzinfo=LONDON), series_id="s1", occurrence_index=1, sequence=2
)
CANCELLED = occurrence(
    "e-cancelled", datetime(2026, 4, 2, 10, 0, tzinfo=LONDON), status="cancelled", sequence=5, title="Quarterly review"
)
ONLINE = occurrence(
    "e-online",
    datetime(2026, 4, 7, 14, 0, tzinfo=ZoneInfo("America/New_York")),
    format="online",
    timezone="America/New_York",
    venue=None,
    joining_link=LINK,
    title="Webinar: deprescribing, commas, semicolons; and newlines",
    description="Line one\nLine two, with a comma; and a semicolon — and é.",
    guest_speakers=["Dr Ana Silva", "Sam Okafor"],
)
ALL = [ONLINE, CANCELLED, AFTER_DST, BEFORE_DST]  # deliberately out of order


def render(
    events: list[dict[str, Any]], *, links: set[str] | None = None, name: str = "Falls prevention CoP", **kwargs: Any
) -> bytes:
    return render_calendar(
        events,
        name=name,
        public_base_url=BASE,
        include_link_for=links if links is not None else set(),
        stamp=STAMP,
        **kwargs,
    )


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def vevents(body: bytes) -> dict[str, Event]:
    return {str(e["UID"]): e for e in parse(body).walk("VEVENT")}


def unescape_text(value: str) -> str:
    """An RFC 5545 TEXT value unescaped (icalendar leaves X- and NAME properties raw)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_every_occurrence_is_its_own_vevent_with_a_stable_uid() -> None:
    body = render(ALL)
    parsed = parse(body).walk("VEVENT")
    assert [str(e["UID"]) for e in parsed] == [event_uid(e["_id"]) for e in (BEFORE_DST, AFTER_DST, CANCELLED, ONLINE)]
    assert event_uid("e-online") == "e-online@weft"
    # Same input, same bytes: nothing random, so calendar apps see no phantom changes.
    assert render(list(reversed(ALL))) == body


def test_times_carry_the_tzid_and_round_trip_to_the_same_instants() -> None:
    events = vevents(render(ALL))
    for doc in ALL:
        vevent = events[event_uid(doc["_id"])]
        assert vevent["DTSTART"].params["TZID"] == doc["timezone"]
        assert vevent["DTEND"].params["TZID"] == doc["timezone"]
        assert vevent["DTSTART"].dt == doc["starts_at"]
        assert vevent["DTEND"].dt == doc["ends_at"]


def test_a_weekly_meeting_keeps_its_local_time_across_a_dst_change() -> None:
    events = vevents(render([BEFORE_DST, AFTER_DST]))
    before, after = events["e-series-0@weft"]["DTSTART"].dt, events["e-series-1@weft"]["DTSTART"].dt
    assert (before.hour, after.hour) == (18, 18)
    assert before.utcoffset() == timedelta(0)
    assert after.utcoffset() == timedelta(hours=1)
    # One hour less in absolute time (same-zone subtraction in Python is wall-clock, hence UTC).
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7) - timedelta(hours=1)


def test_there_is_a_vtimezone_for_every_timezone_used() -> None:
    calendar = parse(render(ALL))
    timezones = {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}
    assert set(timezones) == {"Europe/London", "America/New_York"}
    assert calendar.get_missing_tzids() == set()
    # The London zone describes both sides of the change the series crosses.
    london = timezones["Europe/London"]
    assert {c.name for c in london.subcomponents} == {"STANDARD", "DAYLIGHT"}
    # VTIMEZONEs come before the events that use them.
    names = [c.name for c in calendar.subcomponents]
    assert names.index("VEVENT") > max(i for i, n in enumerate(names) if n == "VTIMEZONE")


def test_the_calendar_announces_itself() -> None:
    calendar = parse(render(ALL, refresh=timedelta(hours=1)))
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//Weft//Weft events//EN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Falls prevention CoP"
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert all(e["DTSTAMP"].dt == STAMP for e in calendar.walk("VEVENT"))
    assert "REFRESH-INTERVAL" not in parse(render(ALL))


@pytest.mark.parametrize(("every", "written"), [(timedelta(hours=1), "PT1H"), (timedelta(minutes=90), "PT1H30M")])
def test_the_refresh_interval_is_an_rfc_5545_duration(every: timedelta, written: str) -> None:
    """X-PUBLISHED-TTL went out as "1:00:00" (Python's str of a timedelta), which no client reads."""
    lines = render(ALL, refresh=every).decode().split("\r\n")
    assert f"REFRESH-INTERVAL;VALUE=DURATION:{written}" in lines
    assert f"X-PUBLISHED-TTL:{written}" in lines
    assert vDuration.from_ical(written) == every


def test_every_event_has_what_rfc_5545_requires() -> None:
    """3.6.1: UID and DTSTAMP (a UTC time), DTSTART; 3.7: PRODID and VERSION once."""
    raw = render(ALL, refresh=timedelta(hours=1)).decode()
    calendar = parse(raw.encode())
    assert raw.count("\r\nPRODID:") == 1 and raw.count("\r\nVERSION:2.0\r\n") == 1
    for event in calendar.walk("VEVENT"):
        assert str(event["UID"]).endswith("@weft")
        assert event["DTSTAMP"].dt.utcoffset() == timedelta(0)
        assert event["DTSTART"].dt < event["DTEND"].dt
    stamps = [line for line in raw.split("\r\n") if line.startswith("DTSTAMP:")]
    assert stamps and all(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in stamps)


def test_a_cancelled_occurrence_says_so_with_its_sequence() -> None:
    events = vevents(render(ALL))
    cancelled = events["e-cancelled@weft"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 5
    assert str(cancelled["TRANSP"]) == "TRANSPARENT"
    assert str(cancelled["SUMMARY"]) == "Cancelled: Quarterly review"
    assert str(events["e-series-0@weft"]["STATUS"]) == "CONFIRMED"
    assert int(events["e-series-0@weft"]["SEQUENCE"]) == 2


def test_details_location_url_and_series() -> None:
    events = vevents(render(ALL))
    first = events["e-series-0@weft"]
    assert str(first["LOCATION"]) == "Room 2, Civic Centre, Leeds"
    assert str(first["URL"]) == f"{BASE}/v1/events/e-series-0"
    assert str(first["X-WEFT-SERIES-ID"]) == "s1"
    assert str(events["e-series-1@weft"]["X-WEFT-OCCURRENCE-INDEX"]) == "1"
    assert "X-WEFT-SERIES-ID" not in events["e-online@weft"]
    online = events["e-online@weft"]
    assert str(online["SUMMARY"]) == ONLINE["title"]  # escaping round-trips
    assert str(online["LOCATION"]) == "Online"
    description = str(online["DESCRIPTION"])
    assert description.startswith(ONLINE["description"])
    assert "Guest speakers: Dr Ana Silva, Sam Okafor" in description
    assert f"Details: {BASE}/v1/events/e-online" in description


def test_the_joining_link_appears_only_for_events_the_reader_may_join() -> None:
    without = render(ALL)
    assert b"meet.example.org" not in without
    assert "CONFERENCE" not in vevents(without)["e-online@weft"]

    with_link = vevents(render(ALL, links={"e-online"}))["e-online@weft"]
    assert str(with_link["CONFERENCE"]) == LINK
    assert with_link["CONFERENCE"].params["FEATURE"] == "VIDEO"
    assert f"Join online: {LINK}" in str(with_link["DESCRIPTION"])


def test_a_cancelled_event_never_shows_its_link() -> None:
    cancelled_online = occurrence(
        "e-gone", datetime(2026, 4, 9, 9, 0, tzinfo=LONDON), format="online", joining_link=LINK, status="cancelled"
    )
    assert b"meet.example.org" not in render([cancelled_online], links={"e-gone"})


def test_an_empty_calendar_is_still_a_calendar() -> None:
    calendar = parse(render([]))
    assert calendar.walk("VEVENT") == []
    assert calendar.walk("VTIMEZONE") == []
    assert str(calendar["X-WR-CALNAME"]) == "Falls prevention CoP"


def test_an_event_kept_in_utc_needs_no_vtimezone() -> None:
    utc_event = occurrence("e-utc", datetime(2026, 5, 1, 8, 0, tzinfo=UTC), timezone="UTC")
    calendar = parse(render([utc_event]))
    (vevent,) = calendar.walk("VEVENT")
    assert vevent["DTSTART"].dt == utc_event["starts_at"]
    assert calendar.walk("VTIMEZONE") == []
    assert b"DTSTART:20260501T080000Z" in calendar.to_ical()


# Stored data from before inputs refused control characters (or written by a script)
# must still render: every calendar that shows it would otherwise answer 500.
DIRTY = occurrence(
    "e-dirty",
    datetime(2026, 4, 14, 18, 0, tzinfo=LONDON),
    title="Falls\nprevention\r\nhuddle\x00\x1b",
    description="Line one\r\nLine two\x00 with\ta tab\x85",
    venue="Room 4\nSt Mary's\x07",
    guest_speakers=["Dr Ana\nSilva"],
    series_id="s\n2",
)


def content_lines(body: bytes) -> list[bytes]:
    """RFC 5545 3.1: CRLF-separated lines of at most 75 octets."""
    assert body.endswith(b"\r\n")
    lines = body[:-2].split(b"\r\n")
    assert all(len(line) <= 75 for line in lines), [line for line in lines if len(line) > 75]
    return lines


def test_stored_line_breaks_and_controls_are_escaped_or_dropped() -> None:
    body = render([DIRTY], name="Falls\nprevention CoP\x00")
    lines = content_lines(body)
    # TEXT allows no control character but HTAB, and a bare LF or CR would end a content line.
    assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", b"".join(lines))
    calendar = parse(body)
    assert str(calendar["X-WR-CALNAME"]) == "Falls prevention CoP"
    assert str(calendar["NAME"]) == "Falls prevention CoP"
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Falls prevention huddle"
    assert str(vevent["LOCATION"]) == "Room 4 St Mary's"
    assert str(vevent["X-WEFT-SERIES-ID"]) == "s 2"
    # Prose keeps its lines (escaped as \n on the wire) and its tab.
    description = str(vevent["DESCRIPTION"])
    assert description.startswith("Line one\nLine two with\ta tab\n\nGuest speakers: Dr Ana\nSilva")


def test_a_newline_in_the_calendar_name_alone_still_renders() -> None:
    # The name becomes X-WR-CALNAME and NAME, which icalendar writes unescaped unless told they are TEXT.
    calendar = parse(render([], name="Wound care\nnetwork"))
    assert str(calendar["X-WR-CALNAME"]) == "Wound care network"


def test_the_calendar_name_is_escaped_text() -> None:
    # NAME (RFC 7986) and X- properties (RFC 5545 3.8.8.2) are TEXT, though icalendar
    # writes and reads them raw unless told: escaped here, so `;` `,` `\\` round-trip.
    body = render([], name="Falls; prevention, \\ network")
    assert b"\r\nX-WR-CALNAME:Falls\\; prevention\\, \\\\ network\r\n" in body
    assert b"\r\nNAME:Falls\\; prevention\\, \\\\ network\r\n" in body
    assert unescape_text(str(parse(body)["X-WR-CALNAME"])) == "Falls; prevention, \\ network"


def test_long_text_is_folded_at_75_octets_without_splitting_a_character() -> None:
    title = "Soins palliatifs à domicile — échanges entre infirmières " * 4
    body = render([occurrence("e-long", datetime(2026, 4, 21, 9, 0, tzinfo=LONDON), title=title)])
    lines = content_lines(body)
    for line in lines:
        line.decode("utf-8")  # each folded line is whole UTF-8
    [vevent] = parse(body).walk("VEVENT")
    assert str(vevent["SUMMARY"]) == title


def test_a_stored_joining_link_with_a_line_break_stays_one_uri() -> None:
    dirty_link = occurrence(
        "e-link",
        datetime(2026, 4, 22, 9, 0, tzinfo=LONDON),
        format="online",
        joining_link="https://meet.example/a\nb c",
    )
    body = render([dirty_link], links={"e-link"})
    content_lines(body)
    [vevent] = parse(body).walk("VEVENT")
    assert str(vevent["CONFERENCE"]) == "https://meet.example/a%0Ab%20c"


def test_times_at_the_ends_of_the_calendar_still_render() -> None:
    # Stored before times were limited to years 1900-9000: wall times in far-off
    # zones are past what `datetime` holds, so they are given in UTC.
    last = occurrence(
        "e-last",
        datetime(9999, 12, 31, 20, 0, tzinfo=UTC),
        ends_at=datetime(9999, 12, 31, 23, 0, tzinfo=UTC),
        timezone="Pacific/Kiritimati",
    )
    first = occurrence("e-first", datetime(1, 1, 1, 1, 0, tzinfo=UTC), timezone="America/New_York")
    body = render([last, first])
    content_lines(body)
    events = vevents(body)
    assert events["e-last@weft"]["DTSTART"].dt == last["starts_at"]
    assert events["e-last@weft"]["DTEND"].dt == last["ends_at"]
    assert events["e-first@weft"]["DTSTART"].dt == first["starts_at"]
    # Near the end, but with a zone that can still show it: a local time with TZID.
    late_london = occurrence("e-late", datetime(9999, 12, 30, 18, 0, tzinfo=UTC))
    [vevent] = parse(render([late_london])).walk("VEVENT")
    assert vevent["DTSTART"].params["TZID"] == "Europe/London"
    assert vevent["DTSTART"].dt == late_london["starts_at"]
