"""Messages the events service publishes (community events: meetings people RSVP to).

The joining link of an online event is never in a message: only people with a
confirmed place may see it, and the bus is read by many systems.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from weft_shared.contracts.base import MessagePayload, message

Attendance = Literal["in_person", "online"]
EventFormat = Literal["in_person", "online", "hybrid"]
EventVisibility = Literal["community", "partners", "public"]


class Capacity(BaseModel):
    in_person: int | None  # None: unlimited
    online: int | None


class EventSnapshot(BaseModel):
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
    visibility: EventVisibility
    hosts: list[str]
    guest_speakers: list[str]
    capacity: Capacity
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    status: Literal["scheduled", "cancelled"]


@message("org.weft.event.scheduled.v1", "A community event (one occurrence) was scheduled.")
class EventScheduled(MessagePayload):
    event: EventSnapshot
    scheduled_by: str


@message("org.weft.event.updated.v1", "An event changed; `changed` names the fields (a new time moves reminders).")
class EventUpdated(MessagePayload):
    event: EventSnapshot
    changed: list[str]
    updated_by: str


@message("org.weft.event.cancelled.v1", "An event was cancelled; its RSVPs lapse.")
class EventCancelled(MessagePayload):
    event: EventSnapshot
    cancelled_by: str
    reason: str | None = None


class RsvpFacts(BaseModel):
    event_id: str
    community_id: str
    user_id: str
    attendance: Attendance
    starts_at: datetime


@message("org.weft.rsvp.confirmed.v1", "Someone has a confirmed place.")
class RsvpConfirmed(MessagePayload):
    rsvp: RsvpFacts


@message("org.weft.rsvp.waitlisted.v1", "No seat left in that mode: on the waitlist at `position`.")
class RsvpWaitlisted(MessagePayload):
    rsvp: RsvpFacts
    position: int


@message("org.weft.rsvp.promoted.v1", "A seat freed up: the first waitlisted person now has it.")
class RsvpPromoted(MessagePayload):
    rsvp: RsvpFacts


@message(
    "org.weft.rsvp.cancelled.v1",
    "An RSVP ended: by the person, because they left the community, or because the link it came through was removed.",
)
class RsvpCancelled(MessagePayload):
    rsvp: RsvpFacts
    was: Literal["confirmed", "waitlisted"]
    # person_erased: the person was erased (the place went, a waitlisted one moved up)
    reason: Literal["cancelled", "left_community", "removed_from_community", "link_removed", "person_erased"]


@message("org.weft.checkin.recorded.v1", "A host recorded someone's attendance (CPD evidence).")
class CheckInRecorded(MessagePayload):
    rsvp: RsvpFacts
    checked_in_at: datetime
    recorded_by: str
    duration_minutes: int


@message("org.weft.reminder.due.v1", "An occurrence starts in `offset_minutes`; sent once per offset.")
class ReminderDue(MessagePayload):
    event: EventSnapshot
    offset_minutes: int
    confirmed_user_ids: list[str]
