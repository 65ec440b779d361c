"""Who is told: the people a notice is for, from the read model.

Large audiences come as keyset batches (`AsyncIterator[list[str]]`) so a fan-out
never holds a whole community in one query; each person appears in one batch only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from weft_notifications.usecases.context import NotificationsContext
from weft_shared.contracts.events import EventSnapshot
from weft_shared.contracts.resources import ThreadFacts

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


async def staff(ctx: NotificationsContext, community_id: str) -> list[str]:
    """A community's active owners and facilitators (its moderators)."""
    return await ctx.storage.view.staff(community_id)


async def thread_readers_among(ctx: NotificationsContext, thread: ThreadFacts, user_ids: list[str]) -> list[str]:
    """Those of these people who may see the thread (the resources service's rule, from
    this read model): its community's active members and, unless it is Chatham House or
    its community is hidden, active members of the communities linked with it sharing
    resources. Anyone else named (someone who left or was removed since, a partner of a
    Chatham House thread) is told nothing."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    readers = await ctx.storage.view.active_members_among(thread.community_id, wanted)
    rest = [u for u in wanted if u not in readers]
    if rest and not thread.chatham_house:
        community = await ctx.storage.view.community(thread.community_id)
        if community is not None and community.get("visibility") != "hidden":
            for linked in await ctx.storage.view.linked_communities(thread.community_id, sharing="share_resources"):
                readers |= await ctx.storage.view.active_members_among(linked, rest)
                rest = [u for u in rest if u not in readers]
                if not rest:
                    break
    return sorted(readers)
