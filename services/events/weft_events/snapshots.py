"""What messages say about an event: built from the stored document (DOCUMENTS.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weft_shared.contracts.events import Capacity, EventSnapshot, RsvpFacts


def event_snapshot(doc: Mapping[str, Any]) -> EventSnapshot:
    """The event as the bus sees it. Fields are picked one by one, never copied
    wholesale, so `joining_link` (confirmed places only) can never leak into a message."""
    return EventSnapshot(
        id=str(doc["_id"]),
        series_id=doc.get("series_id"),
        community_id=doc["community_id"],
        cohost_community_ids=list(doc.get("cohost_community_ids", [])),
        title=doc["title"],
        description=doc.get("description", ""),
        format=doc["format"],
        timezone=doc["timezone"],
        starts_at=doc["starts_at"],
        ends_at=doc["ends_at"],
        venue=doc.get("venue"),
        visibility=doc["visibility"],
        hosts=list(doc.get("hosts", [])),
        guest_speakers=list(doc.get("guest_speakers", [])),
        capacity=Capacity(in_person=doc["capacity"].get("in_person"), online=doc["capacity"].get("online")),
        registration_opens_at=doc.get("registration_opens_at"),
        registration_closes_at=doc.get("registration_closes_at"),
        status=doc["status"],
    )


def rsvp_facts(event: Mapping[str, Any], attendee: Mapping[str, Any]) -> RsvpFacts:
    """One person's place (an entry of `attendees`) on an occurrence, for the rsvp/check-in messages."""
    return RsvpFacts(
        event_id=str(event["_id"]),
        community_id=event["community_id"],
        user_id=attendee["user_id"],
        attendance=attendee["mode"],
        starts_at=event["starts_at"],
    )
