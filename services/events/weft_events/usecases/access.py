"""Who may see and manage what (404 when a person may not know it exists, 403 when
they may see it but not do this), and announcing a change of an occurrence."""

from __future__ import annotations

from weft_events.domain.events import Doc, Standing, can_manage, can_see
from weft_events.usecases.context import EventsContext
from weft_shared.contracts.base import MessagePayload
from weft_shared.errors import Forbidden, NotFound
from weft_shared.service.actor import Actor, Person, System
from weft_shared.storage.unit_of_work import Transaction


def hidden(community: Doc | None) -> bool:
    """Unknown to the membership view counts as hidden: nothing of it shows outside."""
    return community is None or community.get("visibility") == "hidden"


async def community_hidden(ctx: EventsContext, community_id: str) -> bool:
    return hidden(await ctx.storage.membership.community(community_id))


async def known_community(ctx: EventsContext, person: Person, community_id: str) -> tuple[Doc, Standing]:
    """The community from the membership view, if `person` may know it exists."""
    community = await ctx.storage.membership.community(community_id)
    standing = await ctx.storage.membership.standing(person.id)
    if community is None or (hidden(community) and community_id not in standing.member_of):
        raise NotFound("no such community")
    return community, standing


async def visible_event(ctx: EventsContext, person: Person, event_id: str) -> tuple[Doc, Standing]:
    event = await ctx.storage.events.get(event_id)
    if event is None:
        raise NotFound("no such event")
    standing = await ctx.storage.membership.standing(person.id)
    if not can_see(event, standing, community_hidden=await community_hidden(ctx, event["community_id"])):
        raise NotFound("no such event")
    return event, standing


async def managed_event(ctx: EventsContext, person: Person, event_id: str) -> tuple[Doc, Standing]:
    event, standing = await visible_event(ctx, person, event_id)
    if not can_manage(event, standing):
        raise Forbidden("only the event's hosts and the community's facilitators can do this")
    return event, standing


def actor_name(actor: Actor) -> str:
    """Who messages name as having done it: the person, or whom the system acted for."""
    if isinstance(actor, System):
        return actor.on_behalf_of or "system"
    return actor.id


def announce(tx: Transaction, event: Doc, payload: MessagePayload) -> None:
    """Send `payload` about the occurrence once the transaction commits."""
    tx.announce(payload, aggregate=f"events/{event['_id']}", community_id=event["community_id"])
