"""What the events service publishes: the message types (declared for the AsyncAPI
document; publishing goes through the outbox) and the facts they carry, built
from stored documents (DOCUMENTS.md)."""

from __future__ import annotations

from faststream.nats import NatsBroker

from weft_events.domain.events import AttendanceMode, Doc
from weft_shared.contracts import events as contracts
from weft_shared.contracts.events import Capacity, EventSnapshot, RsvpFacts
from weft_shared.messaging.declarations import declare_messages, published_in
from weft_shared.settings import PlatformSettings

PUBLISHED = published_in(contracts)


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    declare_messages(broker, platform, PUBLISHED)


def event_snapshot(event: Doc) -> EventSnapshot:
    """The event as the bus sees it. Fields are picked one by one, never copied
    wholesale, so `joining_link` (confirmed places only) can never leak into a message."""
    return EventSnapshot(
        id=str(event["_id"]),
        series_id=event.get("series_id"),
        community_id=event["community_id"],
        cohost_community_ids=list(event.get("cohost_community_ids", [])),
        title=event["title"],
        description=event.get("description", ""),
        format=event["format"],
        timezone=event["timezone"],
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        venue=event.get("venue"),
        visibility=event["visibility"],
        hosts=list(event.get("hosts", [])),
        guest_speakers=list(event.get("guest_speakers", [])),
        capacity=Capacity(in_person=event["capacity"].get("in_person"), online=event["capacity"].get("online")),
        registration_opens_at=event.get("registration_opens_at"),
        registration_closes_at=event.get("registration_closes_at"),
        status=event["status"],
    )


def rsvp_facts(event: Doc, user_id: str, mode: AttendanceMode | str) -> RsvpFacts:
    """One person's place on an occurrence, as the rsvp.* and checkin.* messages carry it."""
    return RsvpFacts(
        event_id=str(event["_id"]),
        community_id=event["community_id"],
        user_id=user_id,
        attendance=AttendanceMode(mode).value,
        starts_at=event["starts_at"],
    )
