"""Request and response bodies of the events API (strict: unknown fields and
objects-for-strings are 422s naming the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from weft_events.domain.events import AttendanceMode, EventFormat, EventVisibility
from weft_shared.service.models import Strict, WholeNumber, patch_validators
from weft_shared.service.openapi import patch_body_schema
from weft_shared.service.text import MultiLine, OneLine
from weft_shared.service.times import Instant

Title = Annotated[str, OneLine(min_length=1, max_length=200)]
Text = Annotated[str, MultiLine(max_length=10_000)]
Venue = Annotated[str, OneLine(min_length=1, max_length=300)]
Link = Annotated[str, OneLine(pattern=r"^https?://[^\s\x00-\x1f\x7f-\x9f]{3,2000}$")]
Name = Annotated[str, OneLine(min_length=1, max_length=120)]
Id = Annotated[str, OneLine(min_length=1, max_length=200)]
TimezoneName = Annotated[str, OneLine(min_length=1, max_length=64)]
Seats = Annotated[WholeNumber, Field(ge=0, le=100_000)]


class CapacityIn(Strict):
    in_person: Seats | None = None
    online: Seats | None = None


class Recurrence(Strict):
    # An RFC 5545 RRULE, e.g. "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6" (WEEKLY or MONTHLY, with COUNT or UNTIL).
    rrule: Annotated[str, OneLine(min_length=6, max_length=500)]


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA timezone {value!r}") from exc
    return value


class EventFields(Strict):
    """Fields shared by create and update; cross-field rules are checked on the result."""

    title: Title | None = None
    description: Text | None = None
    format: EventFormat | None = None
    timezone: TimezoneName | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    venue: Venue | None = None
    joining_link: Link | None = None
    capacity: CapacityIn | None = None
    registration_opens_at: Instant | None = None
    registration_closes_at: Instant | None = None
    visibility: EventVisibility | None = None
    hosts: Annotated[list[Id], Field(max_length=20)] | None = None
    guest_speakers: Annotated[list[Name], Field(max_length=20)] | None = None

    _tz = field_validator("timezone")(_check_timezone)


class EventCreate(EventFields):
    title: Title
    format: EventFormat
    timezone: TimezoneName
    starts_at: Instant
    ends_at: Instant
    visibility: EventVisibility = EventVisibility.COMMUNITY
    cohost_community_ids: Annotated[list[Id], Field(max_length=10)] = Field(default_factory=list)
    recurrence: Recurrence | None = None


# Fields an event always has: null would store a hole its views and calendars can't read
# (send "" or [] to empty a description or a list). Null clears the others (venue, capacity...).
_NEVER_NULL = (
    "title",
    "description",
    "format",
    "timezone",
    "starts_at",
    "ends_at",
    "visibility",
    "hosts",
    "guest_speakers",
)


class EventUpdate(EventFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra=patch_body_schema(*_NEVER_NULL))

    _something, _not_null = patch_validators(*_NEVER_NULL)


class RsvpBody(Strict):
    attendance: AttendanceMode


class SeatsView(BaseModel):
    in_person: int | None
    online: int | None


class MyRsvp(BaseModel):
    status: Literal["confirmed", "waitlisted"]
    attendance: AttendanceMode
    position: int | None = None


class EventView(BaseModel):
    id: str
    series_id: str | None
    community_id: str
    cohost_community_ids: list[str]
    title: str
    description: str
    format: EventFormat
    timezone: str
    starts_at: datetime
    ends_at: datetime
    venue: str | None
    joining_link: str | None = None  # only for people with a confirmed place, and the hosts
    capacity: SeatsView
    seats_left: SeatsView
    waitlisted: SeatsView
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    visibility: EventVisibility
    hosts: list[str]
    guest_speakers: list[str]
    status: Literal["scheduled", "cancelled"]
    my_rsvp: MyRsvp | None = None
    can_manage: bool = False


class CreatedEvents(EventView):
    occurrence_ids: list[str]


class EventPage(BaseModel):
    items: list[EventView]
    next_cursor: str | None


class RsvpView(BaseModel):
    status: Literal["confirmed", "waitlisted"]
    attendance: AttendanceMode
    position: int | None = None


class AttendeeView(BaseModel):
    user_id: str
    attendance: AttendanceMode
    status: Literal["confirmed", "waitlisted"]
    position: int | None = None
    checked_in_at: datetime | None = None


class AttendeesView(BaseModel):
    confirmed: SeatsView
    waitlisted: SeatsView
    # Hosts only:
    attendees: list[AttendeeView] | None = None


# -- check-ins (api/check_ins.py) and the caller's CPD record (api/cpd_record.py) ----


class CheckInBody(Strict):
    user_id: Id


class CheckInView(BaseModel):
    event_id: str
    user_id: str
    attendance: AttendanceMode
    checked_in_at: datetime
    checked_in_by: str
    walk_in: bool  # checked in without having held a confirmed place
    duration_minutes: int


class CpdRecordEntry(BaseModel):
    """One occurrence the person was checked in at: evidence for professional development."""

    event_id: str
    series_id: str | None
    title: str
    community_id: str
    community_name: str | None  # None while the membership view does not know the community
    format: EventFormat
    attendance: AttendanceMode
    timezone: str
    starts_at: datetime
    ends_at: datetime
    local_date: str  # YYYY-MM-DD on the event's wall clock
    local_start: str  # HH:MM
    local_end: str  # HH:MM
    duration_minutes: int
    checked_in_at: datetime
    checked_in_by: str
    event_status: Literal["scheduled", "cancelled"]


class CpdRecordPage(BaseModel):
    items: list[CpdRecordEntry]
    next_cursor: str | None
