"""Names for notification texts, from the read model ("Someone" / "a community" when unknown)."""

from __future__ import annotations

from weft_notifications.domain.texts import A_COMMUNITY, SOMEONE
from weft_notifications.usecases.context import NotificationsContext


async def person_name(ctx: NotificationsContext, user_id: str | None) -> str:
    if user_id is None:
        return SOMEONE
    return (await ctx.storage.view.names([user_id])).get(user_id, SOMEONE)


async def community_name(ctx: NotificationsContext, community_id: str) -> str:
    return (await ctx.storage.view.community_names([community_id])).get(community_id, A_COMMUNITY)
