"""Request and response bodies of the notifications API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field
from pydantic import Strict as StrictType
from pydantic_core import PydanticCustomError

from weft_notifications.domain.catalogue import Channel, NotificationType
from weft_notifications.domain.digest_periods import Weekday, is_timezone
from weft_shared.service.models import Flag, Strict
from weft_shared.service.text import OneLine


class NotificationView(BaseModel):
    id: str
    type: str
    title: str
    text: str
    # The ids a client links to (community_id, event_id, request_id, invitation_id, ...).
    target: dict[str, str]
    community_id: str | None
    actor_id: str | None
    created_at: datetime
    read: bool
    read_at: datetime | None = None
    # This person's number for the item: 1, 2, 3... in the order they were given (the stream's event id).
    seq: int


class NotificationPage(BaseModel):
    items: list[NotificationView]
    next_cursor: str | None


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


# -- notification preferences --------------------------------------------------------

Email = Annotated[
    str,
    OneLine(
        max_length=320,
        pattern=r"^[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f]{1,255}\.[^@\s\x00-\x1f\x7f-\x9f]{2,63}$",
    ),
]
# A key in the stored document's field path: ObjectId-like ids only (no `.` or `$`).
CommunityKey = Annotated[str, OneLine(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
DigestHour = Annotated[int, StrictType(), Field(ge=0, le=23)]


def _iana_zone(name: str) -> str:
    if not is_timezone(name):
        raise PydanticCustomError("timezone", "must be an IANA time zone name, e.g. Europe/London")
    return name


Timezone = Annotated[str, OneLine(min_length=1, max_length=64), AfterValidator(_iana_zone)]
TypeChannels = Annotated[dict[NotificationType, Channel], Field(max_length=len(NotificationType))]


class CommunityPreferences(Strict):
    muted: Flag = False
    types: TypeChannels = Field(default_factory=dict)


class PreferencesUpdate(Strict):
    """The whole document: what is left out takes its default."""

    defaults: TypeChannels = Field(default_factory=dict)
    communities: Annotated[dict[CommunityKey, CommunityPreferences], Field(max_length=1000)] = Field(
        default_factory=dict
    )
    email: Email | None = None
    timezone: Timezone | None = None
    digest_hour: DigestHour | None = None
    weekly_digest_day: Weekday | None = None


class CommunityPreferencesView(BaseModel):
    muted: bool
    types: dict[str, Channel]  # what the person chose for this community
    effective: dict[str, Channel]  # every type, as it reaches them from this community


class NotificationTypeView(BaseModel):
    name: str
    about: str
    default_channel: Channel


class PreferencesView(BaseModel):
    defaults: dict[str, Channel]  # every type: the person's network-wide choice, or the catalogue's
    communities: dict[str, CommunityPreferencesView]
    email: str | None  # the address the person set
    effective_email: str | None  # where mail goes: theirs, else their token's
    timezone: str
    digest_hour: int
    weekly_digest_day: Weekday
    types: list[NotificationTypeView]
    channels: list[Channel]
