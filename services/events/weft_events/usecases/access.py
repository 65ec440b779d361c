"""Who may see and manage what (404 when a person may not know it exists, 403 when
they may see it but not do this), and announcing a change of an occurrence."""

from __future__ import annotations

from collections.abc import Iterable

from weft_events.domain.events import Doc, Standing, can_manage, can_see, may_book
from weft_events.usecases.context import EventsContext
from weft_shared.contracts.base import MessagePayload
from weft_shared.errors import Forbidden, NotFound
from weft_shared.service.actor import Actor, Person, System
from weft_shared.storage.unit_of_work import Transaction


def hidden(community: Doc | None) -> bool:
    """Unknown to the membership view counts as hidden: nothing of it shows outside."""
    return community is None or community.get("visibility") == "hidden"


class EventSight:
    """What one person may see of occurrences and of the communities they name.

    Every view of an occurrence (a list, the occurrence, a calendar of a community
    it is organised or co-hosted by, a personal feed, the CPD record, check-ins)
    asks this, so one rule applies whichever community it is reached through.
    Which communities are hidden is read once per request."""

    def __init__(self, ctx: EventsContext, standing: Standing) -> None:
        self.ctx = ctx
        self.standing = standing
        self._hidden: dict[str, bool] = {}

    async def is_hidden(self, community_id: str) -> bool:
        if community_id not in self._hidden:
            self._hidden[community_id] = hidden(await self.ctx.storage.membership.community(community_id))
        return self._hidden[community_id]

    async def may_know(self, community_id: str) -> bool:
        return community_id in self.standing.member_of or not await self.is_hidden(community_id)

    async def can_see(self, event: Doc) -> bool:
        return can_see(event, self.standing, organiser_hidden=await self.is_hidden(event["community_id"]))

    async def may_book(self, event: Doc) -> bool:
        return may_book(event, self.standing, organiser_hidden=await self.is_hidden(event["community_id"]))

    async def visible(self, events: Iterable[Doc]) -> list[Doc]:
        return [e for e in events if await self.can_see(e)]

    async def named_cohosts(self, event: Doc) -> list[str]:
        """The co-hosts this person may know of: a hidden one is left out, not shown by id."""
        return [c for c in event.get("cohost_community_ids", []) if await self.may_know(c)]


async def sight_of(ctx: EventsContext, user_id: str) -> EventSight:
    return EventSight(ctx, await ctx.storage.membership.standing(user_id))


async def known_community(ctx: EventsContext, person: Person, community_id: str) -> tuple[Doc, EventSight]:
    """The community from the membership view, if `person` may know it exists."""
    community = await ctx.storage.membership.community(community_id)
    sight = await sight_of(ctx, person.id)
    if community is None or not await sight.may_know(community_id):
        raise NotFound("no such community")
    return community, sight


async def visible_event(ctx: EventsContext, person: Person, event_id: str) -> tuple[Doc, EventSight]:
    """The occurrence, if `person` may see it; else the same 404 as for an id that does not exist."""
    event = await ctx.storage.events.get(event_id)
    # Read before deciding, even for an id that names nothing, so that the 404 for an
    # occurrence the person may not see costs what the 404 for a missing one does.
    sight = await sight_of(ctx, person.id)
    if event is None or not await sight.can_see(event):
        raise NotFound("no such event")
    return event, sight


async def managed_event(ctx: EventsContext, person: Person, event_id: str) -> tuple[Doc, EventSight]:
    event, sight = await visible_event(ctx, person, event_id)
    if not can_manage(event, sight.standing):
        raise Forbidden("only the event's hosts and the community's facilitators can do this")
    return event, sight


def actor_name(actor: Actor) -> str:
    """Who messages name as having done it: the person, or whom the system acted for."""
    if isinstance(actor, System):
        return actor.on_behalf_of or "system"
    return actor.id


def announce(tx: Transaction, event: Doc, payload: MessagePayload) -> None:
    """Send `payload` about the occurrence once the transaction commits."""
    tx.announce(payload, aggregate=f"events/{event['_id']}", community_id=event["community_id"])
