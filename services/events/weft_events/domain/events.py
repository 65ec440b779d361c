"""Community events (one document per occurrence): who may see, manage and book
them, and the rules an event keeps. No I/O.

`Doc` is a stored document as DOCUMENTS.md describes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from weft_shared.service.times import MAX_YEAR

Doc = dict[str, Any]

MAX_DURATION = timedelta(days=14)
# Changes a calendar shows: they bump the iCalendar SEQUENCE.
CALENDAR_FIELDS = frozenset({"title", "description", "starts_at", "ends_at", "venue", "timezone", "status", "format"})


class EventFormat(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class AttendanceMode(StrEnum):
    """How one person attends: in the room or online (a hybrid event offers both)."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class EventVisibility(StrEnum):
    COMMUNITY = "community"
    PARTNERS = "partners"
    PUBLIC = "public"


class EventStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def modes_of(fmt: EventFormat | str) -> list[AttendanceMode]:
    fmt = EventFormat(fmt)
    if fmt is EventFormat.HYBRID:
        return [AttendanceMode.IN_PERSON, AttendanceMode.ONLINE]
    return [AttendanceMode(fmt.value)]


def is_scheduled(event: Doc) -> bool:
    return bool(event["status"] == EventStatus.SCHEDULED.value)


@dataclass(frozen=True, slots=True)
class Standing:
    """What a person is to the communities an event touches (from the membership view)."""

    user_id: str
    member_of: frozenset[str]  # community ids where active member
    staff_of: frozenset[str]  # community ids where owner/facilitator
    partner_of: frozenset[str]  # community ids linked (share_events) to one of member_of


def audience_communities(event: Doc) -> set[str]:
    return {event["community_id"], *event.get("cohost_community_ids", [])}


def can_see(event: Doc, standing: Standing, *, organiser_hidden: bool) -> bool:
    """The one visibility rule of an occurrence, whichever community it is reached through."""
    if event["community_id"] in standing.member_of:
        return True
    if organiser_hidden:
        # Not even to its co-hosts' members: the event names a community that does not exist for them.
        return False
    audience = audience_communities(event)
    if standing.member_of & audience:
        return True
    visibility = EventVisibility(event["visibility"])
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


def members_only(event: Doc, standing: Standing) -> bool:
    """A community-only event is for members of its communities: may this person see
    it (a partner, say) but not book it?"""
    return event["visibility"] == EventVisibility.COMMUNITY.value and not (
        standing.member_of & audience_communities(event)
    )


def may_book(event: Doc, standing: Standing, *, organiser_hidden: bool) -> bool:
    """Whether the person may hold a place. The same rule decides who may walk in."""
    return can_see(event, standing, organiser_hidden=organiser_hidden) and not members_only(event, standing)


def registration_refusal(event: Doc, moment: datetime) -> str | None:
    """Why nobody can book a place at `moment` (None: they can)."""
    if not is_scheduled(event):
        return "this event is cancelled"
    if event["starts_at"] <= moment:
        return "this event has already started"
    if event.get("registration_opens_at") and moment < event["registration_opens_at"]:
        return "registration for this event is not open yet"
    if event.get("registration_closes_at") and moment >= event["registration_closes_at"]:
        return "registration for this event has closed"
    return None


def inconsistency(event: Doc) -> tuple[str, str] | None:
    """The first cross-field rule the event (as it would be after a change) breaks:
    (field, message); None if it keeps them all."""
    if event["starts_at"].year > MAX_YEAR:  # moved there with its series: a cursor could not hold it
        return "starts_at", f"an event must start by the end of the year {MAX_YEAR}"
    if event["ends_at"] <= event["starts_at"]:
        return "ends_at", "an event must end after it starts"
    if event["ends_at"] - event["starts_at"] > MAX_DURATION:
        return "ends_at", f"an event lasts at most {MAX_DURATION.days} days"
    fmt = EventFormat(event["format"])
    if fmt in (EventFormat.ONLINE, EventFormat.HYBRID) and not event.get("joining_link"):
        return "joining_link", "an online or hybrid event needs a joining link"
    if fmt in (EventFormat.IN_PERSON, EventFormat.HYBRID) and not event.get("venue"):
        return "venue", "an in-person or hybrid event needs a venue"
    # Bookings stop when the event starts (registration_refusal): a window must end by then.
    opens, closes = event.get("registration_opens_at"), event.get("registration_closes_at")
    if opens and opens >= event["starts_at"]:
        return "registration_opens_at", "registration must open before the event starts"
    if opens and closes and closes <= opens:
        return "registration_closes_at", "registration must close after it opens"
    if closes and closes > event["starts_at"]:
        return "registration_closes_at", "registration must close by the time the event starts"
    return None


def closes_in_the_past(event: Doc, moment: datetime) -> bool:
    """A registration deadline set to a moment already gone: a typo, not a way to close
    registration (the deadline passing does that)."""
    closes = event.get("registration_closes_at")
    return bool(closes and closes <= moment)


def duration_minutes(event: Doc) -> int:
    """The scheduled length: what CPD schemes count, whatever time someone arrived."""
    return int((event["ends_at"] - event["starts_at"]).total_seconds() // 60)
