"""Events-service messages: who holds a place where, and telling people about events.

Each function runs in the message's transaction, with its processed-message record;
places are sequence-guarded per event and person.
"""

from __future__ import annotations

from weft_notifications.domain import texts
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases import recipients
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify, notify_batches
from weft_notifications.usecases.names import community_name
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.events import (
    EventCancelled,
    EventScheduled,
    EventSnapshot,
    EventUpdated,
    ReminderDue,
    RsvpCancelled,
    RsvpConfirmed,
    RsvpFacts,
    RsvpPromoted,
    RsvpWaitlisted,
)
from weft_shared.messaging.consumer import Delivery, MessageDispatcher

# A change of these is worth telling the people coming: when and where it is.
TIME_OR_PLACE = frozenset({"starts_at", "ends_at", "venue", "format"})


def _starts(event: EventSnapshot) -> str:
    return texts.when(event.starts_at, event.timezone)


def _target(event: EventSnapshot) -> dict[str, str]:
    target = {"community_id": event.community_id, "event_id": event.id}
    if event.series_id:
        target["series_id"] = event.series_id
    return target


async def _record_event(ctx: NotificationsContext, event: EventSnapshot, delivery: Delivery) -> None:
    state = {"title": event.title, "timezone": event.timezone, "community_id": event.community_id}
    await ctx.storage.view.record_event(event.id, state, delivery.sequence)


# -- places -------------------------------------------------------------------------


async def _record_place(ctx: NotificationsContext, rsvp: RsvpFacts, delivery: Delivery, status: str | None) -> None:
    state = {"active": status is not None, "status": status, "community_id": rsvp.community_id}
    await ctx.storage.view.record_place(rsvp.event_id, rsvp.user_id, state, delivery.sequence)


async def rsvp_confirmed(
    ctx: NotificationsContext, _envelope: Envelope, message: RsvpConfirmed, delivery: Delivery
) -> None:
    await _record_place(ctx, message.rsvp, delivery, "confirmed")


async def rsvp_waitlisted(
    ctx: NotificationsContext, _envelope: Envelope, message: RsvpWaitlisted, delivery: Delivery
) -> None:
    await _record_place(ctx, message.rsvp, delivery, "waitlisted")


async def rsvp_cancelled(
    ctx: NotificationsContext, _envelope: Envelope, message: RsvpCancelled, delivery: Delivery
) -> None:
    await _record_place(ctx, message.rsvp, delivery, None)


async def rsvp_promoted(
    ctx: NotificationsContext, envelope: Envelope, message: RsvpPromoted, delivery: Delivery
) -> None:
    await _record_place(ctx, message.rsvp, delivery, "confirmed")
    # The promotion names the event by id only: its title and timezone come from the read model.
    event = await ctx.storage.view.event(message.rsvp.event_id)
    title = str(event["title"]) if event else "an event"
    starts = texts.when(message.rsvp.starts_at, str(event["timezone"]) if event else "UTC")
    wording = texts.rsvp_promoted(title, starts)
    notice = Notice(
        type=NotificationType.RSVP_PROMOTED,
        title=wording.title,
        text=wording.text,
        community_id=message.rsvp.community_id,
        actor_id=None,
        target={"community_id": message.rsvp.community_id, "event_id": message.rsvp.event_id},
        key=envelope.id,
    )
    await notify(ctx, notice, [message.rsvp.user_id])


# -- notices about events -----------------------------------------------------------


async def event_scheduled(
    ctx: NotificationsContext, envelope: Envelope, message: EventScheduled, delivery: Delivery
) -> None:
    """Members who may see it; a series is announced once (its first occurrence to arrive)."""
    event = message.event
    await _record_event(ctx, event, delivery)
    name = await community_name(ctx, event.community_id)
    wording = texts.event_scheduled(event.title, name, _starts(event), series=event.series_id is not None)
    notice = Notice(
        type=NotificationType.EVENT_SCHEDULED,
        title=wording.title,
        text=wording.text,
        community_id=event.community_id,
        actor_id=message.scheduled_by,
        target=_target(event),
        key=f"series:{event.series_id}" if event.series_id else envelope.id,
    )
    await notify_batches(ctx, notice, recipients.event_audience(ctx, event))


async def event_updated(
    ctx: NotificationsContext, envelope: Envelope, message: EventUpdated, delivery: Delivery
) -> None:
    """People with a place or on the waitlist, only when the time or the place changed."""
    event = message.event
    await _record_event(ctx, event, delivery)
    if not TIME_OR_PLACE & set(message.changed):
        return
    wording = texts.event_changed(event.title, _starts(event), event.venue, event.format)
    notice = Notice(
        type=NotificationType.EVENT_CHANGED,
        title=wording.title,
        text=wording.text,
        community_id=event.community_id,
        actor_id=message.updated_by,
        target=_target(event),
        key=envelope.id,
    )
    await notify(ctx, notice, await recipients.place_holders(ctx, event.id))


async def event_cancelled(
    ctx: NotificationsContext, envelope: Envelope, message: EventCancelled, _delivery: Delivery
) -> None:
    event = message.event
    wording = texts.event_cancelled(event.title, _starts(event), message.reason)
    notice = Notice(
        type=NotificationType.EVENT_CANCELLED,
        title=wording.title,
        text=wording.text,
        community_id=event.community_id,
        actor_id=message.cancelled_by,
        target=_target(event),
        key=envelope.id,
    )
    await notify(ctx, notice, await recipients.place_holders(ctx, event.id))


async def reminder_due(
    ctx: NotificationsContext, envelope: Envelope, message: ReminderDue, _delivery: Delivery
) -> None:
    event = message.event
    wording = texts.reminder(event.title, _starts(event), message.offset_minutes)
    notice = Notice(
        type=NotificationType.REMINDER,
        title=wording.title,
        text=wording.text,
        community_id=event.community_id,
        actor_id=None,
        target=_target(event),
        key=envelope.id,
    )
    await notify(ctx, notice, message.confirmed_user_ids)


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, RsvpConfirmed, rsvp_confirmed)
    register_handler(dispatcher, ctx, RsvpWaitlisted, rsvp_waitlisted)
    register_handler(dispatcher, ctx, RsvpCancelled, rsvp_cancelled)
    register_handler(dispatcher, ctx, RsvpPromoted, rsvp_promoted)
    register_handler(dispatcher, ctx, EventScheduled, event_scheduled)
    register_handler(dispatcher, ctx, EventUpdated, event_updated)
    register_handler(dispatcher, ctx, EventCancelled, event_cancelled)
    register_handler(dispatcher, ctx, ReminderDue, reminder_due)
