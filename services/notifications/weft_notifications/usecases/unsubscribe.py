"""One-click unsubscribe (RFC 8058): a signed token turns one kind of mail off.

A notification type in a community is set to `in_app` for that community (the
inbox still shows it: the person asked for no more *mail*); a type without a
community, network-wide; a digest moves every type that went to it to `in_app`.
Using a token twice changes nothing more.
"""

from __future__ import annotations

from typing import Any

from weft_notifications.domain.catalogue import TOPICS, NotificationType
from weft_notifications.domain.unsubscribe_tokens import UnsubscribeSubject, verify
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.routing import effective_channel
from weft_shared.errors import NotFound
from weft_shared.service.clock import now

Doc = dict[str, Any]
MAILING = ("email", "digest_daily", "digest_weekly")
DIGEST_NAMES = {"digest_daily": "the daily digest", "digest_weekly": "the weekly digest"}


def subject_of(ctx: NotificationsContext, token: str) -> UnsubscribeSubject:
    """The subject of a token we signed; anything else is the same 404 (nothing about why)."""
    subject = verify(ctx.settings.unsubscribe_key, token)
    if subject is None:
        raise NotFound("no such unsubscribe link")
    return subject


async def _community_name(ctx: NotificationsContext, community_id: str) -> str:
    community = await ctx.storage.view.community(community_id)
    return str(community["name"]) if community else "a community"


async def describe(ctx: NotificationsContext, subject: UnsubscribeSubject) -> str:
    """What the token turns off, as it ends "You will no longer get ..."."""
    if subject.is_digest:
        return f"{DIGEST_NAMES[subject.subject]} email"
    about = TOPICS[NotificationType(subject.subject)]
    if subject.community_id is None:
        return f"emails about {about}"
    return f"emails about {about} in {await _community_name(ctx, subject.community_id)}"


def _changes(preferences: Doc | None, subject: UnsubscribeSubject) -> dict[str, str]:
    """The preference paths to set to `in_app`: only channels that send mail are lowered
    (a type the person had turned `off` stays off)."""
    if not subject.is_digest:
        kind = NotificationType(subject.subject)
        if effective_channel(preferences, kind, subject.community_id) not in MAILING:
            return {}
        if subject.community_id is None:
            return {f"defaults.{subject.subject}": "in_app"}
        return {f"communities.{subject.community_id}.types.{subject.subject}": "in_app"}
    changes = {
        f"defaults.{t.value}": "in_app"
        for t in NotificationType
        if effective_channel(preferences, t, None) == subject.subject
    }
    for community_id, chosen in (preferences or {}).get("communities", {}).items():
        for type_name, channel in chosen.get("types", {}).items():
            if channel == subject.subject:
                changes[f"communities.{community_id}.types.{type_name}"] = "in_app"
    return changes


async def preview(ctx: NotificationsContext, token: str) -> str:
    """What the token would turn off; changes nothing."""
    return await describe(ctx, subject_of(ctx, token))


async def unsubscribe(ctx: NotificationsContext, token: str) -> str:
    """Turn off what the token names; returns what that was (for the page)."""
    subject = subject_of(ctx, token)

    async def work(_tx: object) -> None:
        preferences = await ctx.storage.preferences.of(subject.user_id)
        changes = _changes(preferences, subject)
        if changes:
            await ctx.storage.preferences.set_channels(subject.user_id, changes, now())

    await ctx.uow.run(work)
    return await describe(ctx, subject)
