"""Places at an occurrence: seats, the waitlist and promotion. No I/O.

A place (an RSVP) is `confirmed` or `waitlisted` in one attendance mode. The
occurrence counts them per mode (`confirmed`, `waitlisted`); every place takes the
next `rsvp_seq` of its occurrence when it is made, and the waitlist is served in
that order (first come, first served).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from weft_events.domain.events import AttendanceMode, Doc, is_scheduled


class PlaceStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"


# Why a place ended: the person cancelled, they are no longer a member, or the link it came through went.
EndReason = Literal["cancelled", "left_community", "removed_from_community", "link_removed", "person_erased"]


def seats_left(event: Doc, mode: AttendanceMode | str) -> int | None:
    """Free seats in `mode`; None when that mode is unlimited."""
    cap: int | None = event["capacity"].get(str(mode))
    if cap is None:
        return None
    return max(0, cap - int(event["confirmed"].get(str(mode), 0)))


def status_on_arrival(event: Doc, mode: AttendanceMode) -> PlaceStatus:
    """A new place is confirmed while a seat is free, else waitlisted."""
    free = seats_left(event, mode)
    return PlaceStatus.CONFIRMED if free is None or free > 0 else PlaceStatus.WAITLISTED


def promotions_due(event: Doc, mode: AttendanceMode) -> int:
    """How many waitlisted people of `mode` take a free seat now (after a place is
    freed or the capacity grows); none once the event is cancelled."""
    waiting = int(event["waitlisted"].get(mode.value, 0))
    if not is_scheduled(event) or waiting == 0:
        return 0
    free = seats_left(event, mode)
    return waiting if free is None else min(free, waiting)
