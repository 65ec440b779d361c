"""Attendance rules (check-ins and the CPD record): when hosts may check people in,
who may walk in, and what a record says. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from weft_events.domain import (
    Attendance,
    Doc,
    EventStatus,
    EventVisibility,
    Standing,
    audience_communities,
    can_see,
    modes_of,
)

# Doors open before the start: people arriving early are checked in as they come.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
# Registers are often typed up from a paper sheet after the meeting, but CPD evidence
# should be recorded while it is fresh, not backdated months later.
CHECK_IN_CLOSES_AFTER = timedelta(days=30)


def entry_of(event: Doc, user_id: str) -> Doc | None:
    return next((a for a in event.get("attendees", []) if a["user_id"] == user_id), None)


def checked_in_entry(event: Doc, user_id: str) -> Doc | None:
    """The person's attendee entry if they were checked in, else None."""
    entry = entry_of(event, user_id)
    return entry if entry is not None and entry.get("checked_in_at") is not None else None


def check_in_refusal(event: Doc, moment: datetime) -> str | None:
    """Why a check-in cannot be recorded at `moment` (None: it can)."""
    if event["status"] != EventStatus.SCHEDULED.value:
        return "this event is cancelled"
    if moment < event["starts_at"] - CHECK_IN_OPENS_BEFORE:
        minutes = int(CHECK_IN_OPENS_BEFORE.total_seconds() // 60)
        return f"check-in opens {minutes} minutes before the event starts"
    if moment > event["ends_at"] + CHECK_IN_CLOSES_AFTER:
        return f"check-in closed {CHECK_IN_CLOSES_AFTER.days} days after the event ended"
    return None


def may_book(event: Doc, standing: Standing, *, community_hidden: bool) -> bool:
    """Whether the person could have RSVPed (the same rule as `rsvps.rsvp`): only
    they may be checked in as walk-ins."""
    if not can_see(event, standing, community_hidden=community_hidden):
        return False
    if event["visibility"] == EventVisibility.COMMUNITY.value:
        return bool(standing.member_of & audience_communities(event))
    return True


def walk_in_mode(fmt: str) -> Attendance:
    """Someone checked in without a place came through the door, unless the event is online only."""
    modes = modes_of(fmt)
    return Attendance.IN_PERSON if Attendance.IN_PERSON in modes else modes[0]


def duration_minutes(event: Doc) -> int:
    """The scheduled length: what CPD schemes count, whatever time someone arrived."""
    return int((event["ends_at"] - event["starts_at"]).total_seconds() // 60)


def to_millis(moment: datetime) -> datetime:
    """BSON keeps milliseconds: truncate first, so the stored record and the message agree."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class LocalTimes:
    date: str  # YYYY-MM-DD of the start, on the event's wall clock
    start: str  # HH:MM
    end: str  # HH:MM (of the end day: events may run past midnight)


def local_times(event: Doc) -> LocalTimes:
    zone = ZoneInfo(event["timezone"])
    start, end = event["starts_at"].astimezone(zone), event["ends_at"].astimezone(zone)
    return LocalTimes(date=start.date().isoformat(), start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
