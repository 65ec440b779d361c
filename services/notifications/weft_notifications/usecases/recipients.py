"""Who is told: the people a notice is for, from the read model.

Large audiences come as keyset batches (`AsyncIterator[list[str]]`) so a fan-out
never holds a whole community in one query; each person appears in one batch only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from weft_notifications.usecases.context import NotificationsContext
from weft_shared.contracts.events import EventSnapshot

# Which events reach members of communities linked to the event's communities.
LINK_SHARED_VISIBILITIES = frozenset({"partners", "public"})


async def community_members(ctx: NotificationsContext, community_id: str) -> AsyncIterator[list[str]]:
    """Every active member of a community."""
    async for batch in ctx.storage.view.member_batches(community_id):
        yield batch


async def event_communities(ctx: NotificationsContext, event: EventSnapshot) -> list[str]:
    """The communities whose members may see an event (the events service's EventSight
    rule): the organiser's and its co-hosts', and for `partners`/`public` events those
    linked with `share_events` to any of them. A hidden (or unknown) organiser's event
    only its own members see: it names a community that does not exist for others."""
    organiser = await ctx.storage.view.community(event.community_id)
    if organiser is None or organiser.get("visibility") == "hidden":
        return [event.community_id]
    audience = list(dict.fromkeys([event.community_id, *event.cohost_community_ids]))
    if event.visibility in LINK_SHARED_VISIBILITIES:
        for community_id in list(audience):
            audience.extend(await ctx.storage.view.linked_communities(community_id, sharing="share_events"))
    return list(dict.fromkeys(audience))


async def event_audience(ctx: NotificationsContext, event: EventSnapshot) -> AsyncIterator[list[str]]:
    """Members who may see the event, each once (someone in two of its communities too)."""
    seen: set[str] = set()
    for community_id in await event_communities(ctx, event):
        async for batch in ctx.storage.view.member_batches(community_id):
            fresh = [user for user in batch if user not in seen]
            seen.update(fresh)
            if fresh:
                yield fresh


async def place_holders(ctx: NotificationsContext, event_id: str) -> list[str]:
    """People with a confirmed place on, or on the waitlist of, an event."""
    return await ctx.storage.view.holders(event_id)
