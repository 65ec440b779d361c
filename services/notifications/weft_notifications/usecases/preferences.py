"""A person's notification preferences: read (every value filled in) and replace."""

from __future__ import annotations

from typing import Any

from weft_notifications.domain.catalogue import CHANNELS, DEFAULT_CHANNELS, TOPICS, NotificationType
from weft_notifications.domain.digest_periods import Schedule, Weekday
from weft_notifications.schemas import (
    CommunityPreferencesView,
    NotificationTypeView,
    PreferencesUpdate,
    PreferencesView,
)
from weft_notifications.settings import NotificationsSettings
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.routing import effective_channel
from weft_shared.service.actor import Person
from weft_shared.service.clock import now

Doc = dict[str, Any]
# Addresses already recorded by this process, so a busy client costs one write per change, not per call.
_recorded_emails: dict[str, str] = {}
_RECORDED_LIMIT = 10_000


async def remember_token_email(ctx: NotificationsContext, me: Person) -> None:
    """Keep the address the caller's token carries: mail goes there unless they set their own."""
    email = me.principal.email
    if not email or _recorded_emails.get(me.id) == email:
        return

    async def work(_tx: object) -> None:
        await ctx.storage.preferences.record_token_email(me.id, email)

    await ctx.uow.run(work)
    if len(_recorded_emails) >= _RECORDED_LIMIT:
        _recorded_emails.clear()
    _recorded_emails[me.id] = email


def schedule_of(settings: NotificationsSettings, preferences: Doc | None) -> Schedule:
    prefs = preferences or {}
    weekly_day: Weekday = prefs.get("weekly_digest_day") or settings.digest_default_weekly_day
    return Schedule(
        timezone=prefs.get("timezone") or settings.digest_default_timezone,
        hour=prefs["digest_hour"] if prefs.get("digest_hour") is not None else settings.digest_default_hour,
        weekly_day=weekly_day,
    )


def address_of(preferences: Doc | None, person: Doc | None) -> str | None:
    """Where a person's mail goes: the address they set, else their token's, else one from messages."""
    if preferences and preferences.get("email"):
        return str(preferences["email"])
    for field in ("token_email", "email"):
        if person and person.get(field):
            return str(person[field])
    return None


def preferences_view(settings: NotificationsSettings, doc: Doc | None, person: Doc | None) -> PreferencesView:
    doc = doc or {}
    schedule = schedule_of(settings, doc)
    communities = {
        community_id: CommunityPreferencesView(
            muted=bool(chosen.get("muted")),
            types=dict(chosen.get("types", {})),
            effective={t.value: effective_channel(doc, t, community_id) for t in NotificationType},
        )
        for community_id, chosen in sorted(doc.get("communities", {}).items())
    }
    return PreferencesView(
        defaults={t.value: effective_channel(doc, t, None) for t in NotificationType},
        communities=communities,
        email=doc.get("email"),
        effective_email=address_of(doc, person),
        timezone=schedule.timezone,
        digest_hour=schedule.hour,
        weekly_digest_day=schedule.weekly_day,
        types=[
            NotificationTypeView(name=t.value, about=TOPICS[t], default_channel=DEFAULT_CHANNELS[t])
            for t in NotificationType
        ],
        channels=list(CHANNELS),
    )


async def get_preferences(ctx: NotificationsContext, me: Person) -> PreferencesView:
    doc = await ctx.storage.preferences.of(me.id)
    person = await ctx.storage.view.person(me.id)
    return preferences_view(ctx.settings, doc, person)


async def replace_preferences(ctx: NotificationsContext, me: Person, update: PreferencesUpdate) -> PreferencesView:
    """Replace the whole document (so the same PUT twice leaves the same state)."""
    document: Doc = {
        "defaults": {t.value: c for t, c in update.defaults.items()},
        "communities": {
            community_id: {"muted": chosen.muted, "types": {t.value: c for t, c in chosen.types.items()}}
            for community_id, chosen in update.communities.items()
        },
        "email": update.email,
        "timezone": update.timezone,
        "digest_hour": update.digest_hour,
        "weekly_digest_day": update.weekly_digest_day,
        "updated_at": now(),
    }

    async def work(_tx: object) -> None:
        await ctx.storage.preferences.replace(me.id, document)

    await ctx.uow.run(work)
    return await get_preferences(ctx, me)
