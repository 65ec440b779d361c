"""Check-ins (a host records who came) and what a CPD record says about one. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from weft_events.domain.events import AttendanceMode, Doc, is_scheduled, modes_of

# Doors open before the start: people arriving early are checked in as they come.
CHECK_IN_OPENS_BEFORE = timedelta(minutes=30)
# Registers are often typed up from a paper sheet after the meeting, but CPD evidence
# should be recorded while it is fresh, not backdated months later.
CHECK_IN_CLOSES_AFTER = timedelta(days=30)


def check_in_refusal(event: Doc, moment: datetime) -> str | None:
    """Why a check-in cannot be recorded at `moment` (None: it can)."""
    if not is_scheduled(event):
        return "this event is cancelled"
    if moment < event["starts_at"] - CHECK_IN_OPENS_BEFORE:
        minutes = int(CHECK_IN_OPENS_BEFORE.total_seconds() // 60)
        return f"check-in opens {minutes} minutes before the event starts"
    if moment > event["ends_at"] + CHECK_IN_CLOSES_AFTER:
        return f"check-in closed {CHECK_IN_CLOSES_AFTER.days} days after the event ended"
    return None


def walk_in_mode(fmt: str) -> AttendanceMode:
    """Someone checked in without a place came through the door, unless the event is online only."""
    modes = modes_of(fmt)
    return AttendanceMode.IN_PERSON if AttendanceMode.IN_PERSON in modes else modes[0]


@dataclass(frozen=True, slots=True)
class LocalTimes:
    date: str  # YYYY-MM-DD of the start, on the event's wall clock
    start: str  # HH:MM
    end: str  # HH:MM (of the end day: events may run past midnight)


def local_times(event: Doc) -> LocalTimes:
    zone = ZoneInfo(event["timezone"])
    start, end = event["starts_at"].astimezone(zone), event["ends_at"].astimezone(zone)
    return LocalTimes(date=start.date().isoformat(), start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
