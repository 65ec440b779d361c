"""How a notice reaches each person: the channel their preferences choose for its
type and community (a muted community is `off`, except for notices about the
person themselves), else the network default they set, else the catalogue's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from weft_notifications.domain.catalogue import DEFAULT_CHANNELS, UNMUTABLE, Channel
from weft_notifications.domain.notices import Notice
from weft_notifications.usecases.context import NotificationsContext


def channel_for(preferences: dict[str, Any] | None, notice: Notice) -> Channel:
    default = DEFAULT_CHANNELS[notice.type]
    if not preferences:
        return default
    type_name = notice.type.value
    if notice.community_id is not None:
        community = preferences.get("communities", {}).get(notice.community_id, {})
        if community.get("muted") and notice.type not in UNMUTABLE:
            return "off"
        if type_name in community.get("types", {}):
            chosen: Channel = community["types"][type_name]
            return chosen
    network: Channel = preferences.get("defaults", {}).get(type_name, default)
    return network


async def route(ctx: NotificationsContext, notice: Notice, user_ids: Sequence[str]) -> dict[str, Channel]:
    """The channel for each person (those who turned this notice off included, as `off`)."""
    preferences = await ctx.storage.preferences.of_people(user_ids)
    return {user: channel_for(preferences.get(user), notice) for user in user_ids}
