"""What every events use case needs, and the access checks (404 vs 403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from weft_events.domain import Doc, Standing, can_manage, can_see, seats_left, waitlist_position
from weft_events.facts import Facts
from weft_events.repository import Repository
from weft_events.schemas import EventView, MyRsvp, SeatsView
from weft_events.settings import EventsSettings
from weft_shared.contracts.base import MessagePayload
from weft_shared.errors import Conflict, Forbidden, NotFound
from weft_shared.storage.unit_of_work import Outgoing

MAX_ATTEMPTS = 8
Plan = Callable[[Doc], Awaitable[tuple[Doc, list[Outgoing]] | None]]


class Context:
    def __init__(self, repo: Repository, facts: Facts, settings: EventsSettings) -> None:
        self.repo = repo
        self.facts = facts
        self.settings = settings

    @staticmethod
    def message(payload: MessagePayload, event: Doc) -> Outgoing:
        return Outgoing(payload, event["community_id"])

    async def community_hidden(self, community_id: str) -> bool:
        fact = await self.facts.get_community(community_id)
        return fact is None or fact.get("visibility") == "hidden"

    async def visible_event(self, event_id: str, user_id: str) -> tuple[Doc, Standing]:
        event = await self.repo.get(event_id)
        if event is None:
            raise NotFound("no such event")
        standing = await self.facts.standing(user_id)
        if not can_see(event, standing, community_hidden=await self.community_hidden(event["community_id"])):
            raise NotFound("no such event")
        return event, standing

    async def managed_event(self, event_id: str, user_id: str) -> tuple[Doc, Standing]:
        event, standing = await self.visible_event(event_id, user_id)
        if not can_manage(event, standing):
            raise Forbidden("only the event's hosts and the community's facilitators can do this")
        return event, standing

    async def mutate(self, event_id: str, plan: Plan) -> Doc:
        """Read-plan-write with optimistic concurrency on `rev`, retried on conflict."""
        for _ in range(MAX_ATTEMPTS):
            event = await self.repo.get(event_id)
            if event is None:
                raise NotFound("no such event")
            planned = await plan(event)
            if planned is None:
                return event
            update, entries = planned
            written = await self.repo.update(event, update, entries)
            if written is not None:
                return written
        raise Conflict("the event changed while this request ran; try again")


def counts(event: Doc, status: str) -> SeatsView:
    tally = {"in_person": 0, "online": 0}
    for a in event.get("attendees", []):
        if a["status"] == status:
            tally[a["mode"]] += 1
    return SeatsView(**tally)


def event_view(event: Doc, standing: Standing | None) -> EventView:
    mine = None
    manager = standing is not None and can_manage(event, standing)
    if standing is not None:
        entry = next((a for a in event.get("attendees", []) if a["user_id"] == standing.user_id), None)
        if entry is not None:
            position = waitlist_position(event["attendees"], standing.user_id, entry["mode"])
            mine = MyRsvp(status=entry["status"], attendance=entry["mode"], position=position)
    confirmed = mine is not None and mine.status == "confirmed"
    return EventView(
        id=event["_id"],
        series_id=event.get("series_id"),
        community_id=event["community_id"],
        cohost_community_ids=event.get("cohost_community_ids", []),
        title=event["title"],
        description=event.get("description", ""),
        format=event["format"],
        timezone=event["timezone"],
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        venue=event.get("venue"),
        joining_link=event.get("joining_link") if (confirmed or manager) else None,
        capacity=SeatsView(**event["capacity"]),
        seats_left=SeatsView(in_person=seats_left(event, "in_person"), online=seats_left(event, "online")),
        waitlisted=counts(event, "waitlisted"),
        registration_opens_at=event.get("registration_opens_at"),
        registration_closes_at=event.get("registration_closes_at"),
        visibility=event["visibility"],
        hosts=event.get("hosts", []),
        guest_speakers=event.get("guest_speakers", []),
        status=event["status"],
        my_rsvp=mine,
        can_manage=manager,
    )
