"""Scheduling, reading, listing, changing and cancelling community events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from weft_events.domain.events import (
    CALENDAR_FIELDS,
    AttendanceMode,
    Doc,
    EventStatus,
    closes_in_the_past,
    inconsistency,
    is_scheduled,
)
from weft_events.domain.recurrence import RecurrenceError, expand_recurrence
from weft_events.domain.reminders import next_reminder, reminder_schedule
from weft_events.messages import event_snapshot
from weft_events.schemas import CreatedEvents, EventCreate, EventFields, EventPage, EventUpdate, EventView
from weft_events.usecases.access import actor_name, announce, known_community, managed_event, visible_event
from weft_events.usecases.context import EventsContext
from weft_events.usecases.paging import check_window, decode_start_cursor, encode_start_cursor
from weft_events.usecases.places import fill_all_seats
from weft_events.usecases.views import event_view, event_view_for, event_views_for
from weft_shared.contracts.events import EventCancelled, EventScheduled, EventUpdated
from weft_shared.errors import Conflict, Forbidden, Problem
from weft_shared.service.actor import Person, System
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

NO_PLACES = {m.value: 0 for m in AttendanceMode}
PAST_DEADLINE = "registration cannot close in the past"


def invalid(field: str, message: str) -> Problem:
    return Problem(message, status=422, errors=[{"field": field, "message": message}])


def check_consistency(event: Doc) -> None:
    broken = inconsistency(event)
    if broken is not None:
        raise invalid(*broken)


def fields_of(body: EventFields, *, with_defaults: bool = False) -> Doc:
    """The fields the caller sent (and, on create, the defaults), as stored values."""
    out: Doc = {}
    names = set(EventFields.model_fields) if with_defaults else body.model_fields_set & set(EventFields.model_fields)
    for name in names:
        if getattr(body, name) is None and with_defaults:
            continue
        value: Any = getattr(body, name)
        if name == "capacity":
            value = (
                {"in_person": value.in_person, "online": value.online} if value else {"in_person": None, "online": None}
            )
        elif hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out


def _shifted(moment: datetime | None, shift: timedelta) -> datetime | None:
    return moment + shift if moment is not None else None


async def schedule_event(ctx: EventsContext, person: Person, community_id: str, body: EventCreate) -> CreatedEvents:
    """One occurrence, or with `recurrence` a series of them (owners and facilitators)."""

    async def work(tx: Transaction) -> CreatedEvents:
        community, sight = await known_community(ctx, person, community_id)
        if community_id not in sight.standing.staff_of:
            raise Forbidden("only the community's owners and facilitators can schedule events")
        if community.get("archived"):
            raise Conflict("the community is archived")
        hosts = list(dict.fromkeys(body.hosts or [person.id]))
        not_staff = set(hosts) - await ctx.storage.membership.active_staff(community_id, hosts)
        if not_staff:
            raise invalid("hosts", f"hosts must be the community's facilitators or owners: {sorted(not_staff)}")
        cohosts = list(dict.fromkeys(body.cohost_community_ids))
        for cohost in cohosts:
            # A hidden community the scheduler is not in answers as one that is not linked: accepting it
            # would tell them it exists (and is linked), which its links list does not.
            if (
                cohost == community_id
                or not await sight.may_know(cohost)
                or not await ctx.storage.membership.linked_for_events(community_id, cohost)
            ):
                raise invalid("cohost_community_ids", f"{cohost} is not linked to this community for events")
        moment = now()
        template: Doc = {
            "community_id": community_id,
            "cohost_community_ids": cohosts,
            "audience": [community_id, *cohosts],
            "description": "",
            "venue": None,
            "joining_link": None,
            "capacity": {"in_person": None, "online": None},
            "registration_opens_at": None,
            "registration_closes_at": None,
            "guest_speakers": [],
            **fields_of(body, with_defaults=True),
            "hosts": hosts,
            "confirmed": dict(NO_PLACES),
            "waitlisted": dict(NO_PLACES),
            "checked_in": 0,
            "rsvp_seq": 0,
            "status": EventStatus.SCHEDULED.value,
            "sequence": 0,
            "created_by": person.id,
            "created_at": moment,
            "updated_at": moment,
        }
        check_consistency(template)
        if template["starts_at"] <= moment:
            raise invalid("starts_at", "an event must start in the future")
        if closes_in_the_past(template, moment):
            raise invalid("registration_closes_at", PAST_DEADLINE)
        starts = [template["starts_at"]]
        series_id = None
        if body.recurrence is not None:
            try:
                starts = expand_recurrence(body.recurrence.rrule, template["starts_at"], template["timezone"])
            except RecurrenceError as exc:
                raise invalid("recurrence.rrule", str(exc)) from exc
            series_id = new_id()
            await ctx.storage.series.insert(
                {"_id": series_id, "community_id": community_id, "rrule": body.recurrence.rrule,
                 "timezone": template["timezone"], "created_at": moment}
            )  # fmt: skip
        duration = template["ends_at"] - template["starts_at"]
        occurrences = []
        for index, start in enumerate(starts):
            shift = start - template["starts_at"]
            reminders = reminder_schedule(start, ctx.settings.reminder_offsets_minutes, moment)
            occurrences.append(
                {
                    **template,
                    "_id": new_id(),
                    "series_id": series_id,
                    "occurrence_index": index,
                    "starts_at": start,
                    "ends_at": start + duration,
                    "registration_opens_at": _shifted(template["registration_opens_at"], shift),
                    "registration_closes_at": _shifted(template["registration_closes_at"], shift),
                    "reminders": reminders,
                    "next_reminder_at": next_reminder(reminders),
                }
            )
        # Archiving cancels the community's events: make a concurrent archive and this conflict.
        await ctx.storage.membership.hold_community(community_id)
        await ctx.storage.events.insert_many(occurrences)
        for occurrence in occurrences:
            announce(tx, occurrence, EventScheduled(event=event_snapshot(occurrence), scheduled_by=person.id))
        first = event_view(occurrences[0], sight.standing, None, cohosts=await sight.named_cohosts(occurrences[0]))
        return CreatedEvents(**first.model_dump(), occurrence_ids=[o["_id"] for o in occurrences])

    return await ctx.uow.run(work)


async def get_event(ctx: EventsContext, person: Person, event_id: str) -> EventView:
    event, sight = await visible_event(ctx, person, event_id)
    return await event_view_for(ctx, event, sight)


async def list_community_events(
    ctx: EventsContext,
    person: Person,
    community_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    cursor: str | None,
    limit: int,
) -> EventPage:
    """Keyset pages over the community's events (upcoming by default), dropping those
    the caller may not see."""
    check_window(start, end)
    _, sight = await known_community(ctx, person, community_id)
    after = decode_start_cursor(cursor)
    visible: list[Doc] = []
    while True:
        batch = await ctx.storage.events.community_page(
            community_id, start=start or now(), end=end, after=after, limit=limit + 1
        )
        page, more = batch[:limit], len(batch) > limit
        for event in page:
            if len(visible) < limit and await sight.can_see(event):
                visible.append(event)
            after = (event["starts_at"], event["_id"])
        if len(visible) >= limit or not more:
            break
    next_cursor = encode_start_cursor(*after) if more and after else None
    return EventPage(items=await event_views_for(ctx, visible, sight), next_cursor=next_cursor)


async def update_event(
    ctx: EventsContext, person: Person, event_id: str, body: EventUpdate, *, series: bool
) -> EventView:
    """Change one occurrence, or it and the later scheduled ones of its series, in one transaction."""
    changes = fields_of(body)

    async def work(tx: Transaction) -> EventView:
        event, sight = await managed_event(ctx, person, event_id)
        wanted = dict(changes)
        if "hosts" in wanted:
            hosts = list(dict.fromkeys(wanted["hosts"]))
            not_staff = set(hosts) - await ctx.storage.membership.active_staff(event["community_id"], hosts)
            if not hosts or not_staff:
                raise invalid("hosts", "hosts must be the community's facilitators or owners")
            wanted["hosts"] = hosts
        targets = [event]
        if series and event.get("series_id"):
            targets = await ctx.storage.events.series_from(event["series_id"], event["starts_at"])
        shift = wanted["starts_at"] - event["starts_at"] if "starts_at" in wanted else timedelta(0)
        duration = (wanted.get("ends_at") or event["ends_at"]) - (wanted.get("starts_at") or event["starts_at"])
        if not is_scheduled(event):
            raise Conflict("a cancelled event cannot be changed")
        updated = event
        for target in targets:
            if not is_scheduled(target):
                continue  # a series edit leaves the occurrences cancelled on their own as they are
            written = await _change_occurrence(ctx, tx, person, target, wanted, shift, duration)
            if target["_id"] == event_id:
                updated = written
        return await event_view_for(ctx, updated, sight)

    return await ctx.uow.run(work)


async def _change_occurrence(
    ctx: EventsContext,
    tx: Transaction,
    person: Person,
    current: Doc,
    changes: Doc,
    shift: timedelta,
    duration: timedelta,
) -> Doc:
    new = {**current, **changes}
    # Times move by the same shift for every occurrence of a series; the
    # registration window moves with them.
    if "starts_at" in changes or "ends_at" in changes:
        new["starts_at"] = current["starts_at"] + shift
        new["ends_at"] = new["starts_at"] + duration
    check_consistency(new)
    changed = sorted(k for k in set(changes) | {"starts_at", "ends_at"} if new.get(k) != current.get(k))
    if not changed:
        return current
    moment = now()
    if "registration_closes_at" in changed and closes_in_the_past(new, moment):
        raise invalid("registration_closes_at", PAST_DEADLINE)
    fields = {k: new[k] for k in changed}
    if "starts_at" in changed:
        if new["starts_at"] <= moment:
            raise invalid("starts_at", "an event must start in the future")
        reminders = reminder_schedule(new["starts_at"], ctx.settings.reminder_offsets_minutes, moment)
        fields.update(reminders=reminders, next_reminder_at=next_reminder(reminders))
    fields["updated_at"] = moment
    bump = {"sequence": 1} if set(changed) & CALENDAR_FIELDS else None
    written = await ctx.storage.events.update(current["_id"], fields=fields, inc=bump)
    if "starts_at" in changed:
        await ctx.storage.rsvps.move_start(current["_id"], written["starts_at"])
        await ctx.storage.check_ins.move_start(current["_id"], written["starts_at"])
    announce(tx, written, EventUpdated(event=event_snapshot(written), changed=changed, updated_by=person.id))
    if "capacity" in changed:
        written = await fill_all_seats(ctx, tx, written)  # more seats: the waitlist moves up
    return written


async def cancel_event(ctx: EventsContext, person: Person, event_id: str, *, series: bool) -> EventView:
    """Cancel one occurrence, or it and the later ones of its series, in one transaction."""

    async def work(tx: Transaction) -> EventView:
        event, sight = await managed_event(ctx, person, event_id)
        targets = [event]
        if series and event.get("series_id"):
            targets = await ctx.storage.events.series_from(event["series_id"], event["starts_at"])
        result = event
        for target in targets:
            written = await _cancel_occurrence(ctx, tx, target, cancelled_by=person.id, reason=None)
            if target["_id"] == event_id:
                result = written
        return await event_view_for(ctx, result, sight)

    return await ctx.uow.run(work)


async def cancel_community_events(ctx: EventsContext, actor: System, community_id: str) -> None:
    """The community's upcoming events are cancelled (it was archived)."""

    async def work(tx: Transaction) -> None:
        for event in await ctx.storage.events.upcoming_of_community(community_id, after=now()):
            await _cancel_occurrence(ctx, tx, event, cancelled_by=actor_name(actor), reason=actor.reason)

    await ctx.uow.run(work)


async def _cancel_occurrence(
    ctx: EventsContext, tx: Transaction, current: Doc, *, cancelled_by: str, reason: str | None
) -> Doc:
    if not is_scheduled(current):
        return current  # cancelling twice is a no-op
    fields = {"status": EventStatus.CANCELLED.value, "next_reminder_at": None, "updated_at": now()}
    written = await ctx.storage.events.update(current["_id"], fields=fields, inc={"sequence": 1})
    announce(tx, written, EventCancelled(event=event_snapshot(written), cancelled_by=cancelled_by, reason=reason))
    return written
