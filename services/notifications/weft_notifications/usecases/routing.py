"""How a notice reaches each person: the channel their preferences choose for its
type and community (a muted community is `off`, except for notices about the
person themselves), else the network default they set, else the catalogue's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from weft_notifications.domain.catalogue import DEFAULT_CHANNELS, UNMUTABLE, Channel, NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.usecases.context import NotificationsContext


def channel_for(preferences: dict[str, Any] | None, notice: Notice) -> Channel:
    return effective_channel(preferences, notice.type, notice.community_id)


def effective_channel(
    preferences: dict[str, Any] | None, notification_type: NotificationType, community_id: str | None
) -> Channel:
    """The channel of one type of notification about one community (or none) for a person."""
    default = DEFAULT_CHANNELS[notification_type]
    if not preferences:
        return default
    type_name = notification_type.value
    if community_id is not None:
        community = preferences.get("communities", {}).get(community_id, {})
        if community.get("muted") and notification_type not in UNMUTABLE:
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
