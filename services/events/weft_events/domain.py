"""Events rules: who may see, host and join; seats and waitlists; recurrence. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrulestr

Doc = dict[str, Any]

MAX_OCCURRENCES = 100
MAX_SERIES_SPAN = timedelta(days=2 * 365)


class EventFormat(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class Attendance(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class EventVisibility(StrEnum):
    COMMUNITY = "community"
    PARTNERS = "partners"
    PUBLIC = "public"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def modes_of(fmt: EventFormat | str) -> list[Attendance]:
    fmt = EventFormat(fmt)
    if fmt is EventFormat.HYBRID:
        return [Attendance.IN_PERSON, Attendance.ONLINE]
    return [Attendance(fmt.value)]


@dataclass(frozen=True, slots=True)
class Standing:
    """What the caller is to the communities an event touches (from the read model)."""

    user_id: str
    member_of: frozenset[str]  # community ids where active member
    staff_of: frozenset[str]  # community ids where owner/facilitator
    partner_of: frozenset[str]  # community ids linked (share_events) to one of member_of


def audience_communities(event: Doc) -> set[str]:
    return {event["community_id"], *event.get("cohost_community_ids", [])}


def can_see(event: Doc, standing: Standing, *, community_hidden: bool) -> bool:
    audience = audience_communities(event)
    if standing.member_of & audience:
        return True
    visibility = EventVisibility(event["visibility"])
    if community_hidden:
        return False  # a hidden community's events never show outside it
    if visibility is EventVisibility.PUBLIC:
        return True
    if visibility is EventVisibility.PARTNERS:
        return bool(standing.partner_of & audience)
    return False


def can_manage(event: Doc, standing: Standing) -> bool:
    """Staff of the organising community, or a named host who is still its member."""
    if event["community_id"] in standing.staff_of:
        return True
    return standing.user_id in event.get("hosts", []) and event["community_id"] in standing.member_of


def waitlist_position(attendees: list[Doc], user_id: str, mode: str) -> int | None:
    position = 0
    for entry in attendees:
        if entry["status"] == "waitlisted" and entry["mode"] == mode:
            position += 1
            if entry["user_id"] == user_id:
                return position
    return None


def first_waitlisted(attendees: list[Doc], mode: str) -> Doc | None:
    return next((a for a in attendees if a["status"] == "waitlisted" and a["mode"] == mode), None)


def seats_left(event: Doc, mode: str) -> int | None:
    cap: int | None = event["capacity"].get(mode)
    if cap is None:
        return None
    return max(0, cap - int(event["confirmed"].get(mode, 0)))


def local_wall_time(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


class RecurrenceError(ValueError):
    pass


def expand_recurrence(rule: str, first_start: datetime, tz: str) -> list[datetime]:
    """Occurrence start times (UTC) of an RRULE, computed on local wall time so a
    weekly 18:00 meeting stays at 18:00 across daylight-saving changes."""
    try:
        local_start = first_start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        parsed = rrulestr(rule, dtstart=local_start, forceset=False, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"not a valid RRULE: {exc}") from exc
    freq = getattr(parsed, "_freq", None)
    if freq not in (WEEKLY, MONTHLY):
        raise RecurrenceError("only FREQ=WEEKLY or FREQ=MONTHLY rules are supported")
    if getattr(parsed, "_count", None) is None and getattr(parsed, "_until", None) is None:
        raise RecurrenceError("the rule needs COUNT or UNTIL")
    starts: list[datetime] = []
    horizon = local_start + MAX_SERIES_SPAN
    for local in parsed:
        if local > horizon:
            break
        starts.append(local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC))
        if len(starts) > MAX_OCCURRENCES:
            raise RecurrenceError(f"the rule makes more than {MAX_OCCURRENCES} occurrences")
    if not starts:
        raise RecurrenceError("the rule makes no occurrences")
    return starts


def reminder_schedule(starts_at: datetime, offsets_minutes: list[int], now: datetime) -> dict[str, Doc]:
    """Reminders still ahead of `now`; keys are the offsets (digits only: valid field names)."""
    schedule: dict[str, Doc] = {}
    for offset in offsets_minutes:
        due = starts_at - timedelta(minutes=offset)
        if due > now:
            schedule[str(offset)] = {"due_at": due, "sent_at": None}
    return schedule


def next_reminder(reminders: dict[str, Doc]) -> datetime | None:
    pending = [r["due_at"] for r in reminders.values() if r.get("sent_at") is None]
    return min(pending) if pending else None
