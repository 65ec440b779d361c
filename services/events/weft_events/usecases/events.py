"""Scheduling, reading, listing, changing and cancelling community events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from weft_events.domain import (
    Doc,
    EventFormat,
    EventStatus,
    RecurrenceError,
    can_see,
    expand_recurrence,
    next_reminder,
    reminder_schedule,
)
from weft_events.schemas import CreatedEvents, EventCreate, EventFields, EventPage, EventUpdate, EventView
from weft_events.snapshots import event_snapshot
from weft_events.usecases.context import Context, event_view
from weft_events.usecases.rsvps import rebalance
from weft_shared.auth import Principal
from weft_shared.contracts.events import EventCancelled, EventScheduled, EventUpdated
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Outgoing

# Changes a calendar shows: they bump the iCalendar SEQUENCE.
CALENDAR_FIELDS = {"title", "description", "starts_at", "ends_at", "venue", "timezone", "status", "format"}


def invalid(field: str, message: str) -> Problem:
    return Problem(message, status=422, errors=[{"field": field, "message": message}])


def check_consistency(event: Doc) -> None:
    """Cross-field rules, checked on the event as it would be after the change."""
    if event["ends_at"] <= event["starts_at"]:
        raise invalid("ends_at", "an event must end after it starts")
    if event["ends_at"] - event["starts_at"] > timedelta(days=14):
        raise invalid("ends_at", "an event lasts at most 14 days")
    fmt = EventFormat(event["format"])
    if fmt in (EventFormat.ONLINE, EventFormat.HYBRID) and not event.get("joining_link"):
        raise invalid("joining_link", "an online or hybrid event needs a joining link")
    if fmt in (EventFormat.IN_PERSON, EventFormat.HYBRID) and not event.get("venue"):
        raise invalid("venue", "an in-person or hybrid event needs a venue")
    opens, closes = event.get("registration_opens_at"), event.get("registration_closes_at")
    if opens and closes and closes <= opens:
        raise invalid("registration_closes_at", "registration must close after it opens")
    if closes and closes > event["ends_at"]:
        raise invalid("registration_closes_at", "registration must close before the event ends")


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


async def create_event(ctx: Context, user: Principal, community_id: str, body: EventCreate) -> CreatedEvents:
    community = await ctx.facts.get_community(community_id)
    standing = await ctx.facts.standing(user.sub)
    if community is None or (community.get("visibility") == "hidden" and community_id not in standing.member_of):
        raise NotFound("no such community")
    if community_id not in standing.staff_of:
        raise Forbidden("only the community's owners and facilitators can schedule events")
    if community.get("archived"):
        raise Problem("the community is archived", status=409)
    hosts = list(dict.fromkeys(body.hosts or [user.sub]))
    not_staff = set(hosts) - await ctx.facts.active_staff(community_id, hosts)
    if not_staff:
        raise invalid("hosts", f"hosts must be the community's facilitators or owners: {sorted(not_staff)}")
    cohosts = list(dict.fromkeys(body.cohost_community_ids))
    for cohost in cohosts:
        if cohost == community_id or not await ctx.facts.linked_for_events(community_id, cohost):
            raise invalid("cohost_community_ids", f"{cohost} is not linked to this community for events")
    template: Doc = {
        "community_id": community_id,
        "cohost_community_ids": cohosts,
        "description": "",
        "venue": None,
        "joining_link": None,
        "capacity": {"in_person": None, "online": None},
        "registration_opens_at": None,
        "registration_closes_at": None,
        "guest_speakers": [],
        **fields_of(body, with_defaults=True),
        "hosts": hosts,
        "confirmed": {"in_person": 0, "online": 0},
        "attendees": [],
        "status": EventStatus.SCHEDULED.value,
        "sequence": 0,
        "created_by": user.sub,
        "created_at": now(),
        "updated_at": now(),
    }
    check_consistency(template)
    if template["starts_at"] <= now():
        raise invalid("starts_at", "an event must start in the future")
    starts = [template["starts_at"]]
    series_id = None
    if body.recurrence is not None:
        try:
            starts = expand_recurrence(body.recurrence.rrule, template["starts_at"], template["timezone"])
        except RecurrenceError as exc:
            raise invalid("recurrence.rrule", str(exc)) from exc
        series_id = new_id()
        await ctx.repo.insert_series(
            {"_id": series_id, "community_id": community_id, "rrule": body.recurrence.rrule,
             "timezone": template["timezone"], "created_at": now()}
        )  # fmt: skip
    duration = template["ends_at"] - template["starts_at"]
    docs = []
    for index, start in enumerate(starts):
        shift = start - template["starts_at"]
        occurrence = {
            **template,
            "_id": new_id(),
            "series_id": series_id,
            "occurrence_index": index,
            "starts_at": start,
            "ends_at": start + duration,
            "registration_opens_at": _shifted(template["registration_opens_at"], shift),
            "registration_closes_at": _shifted(template["registration_closes_at"], shift),
        }
        occurrence["reminders"] = reminder_schedule(start, ctx.settings.reminder_offsets_minutes, now())
        occurrence["next_reminder_at"] = next_reminder(occurrence["reminders"])
        message = ctx.message(EventScheduled(event=event_snapshot(occurrence), scheduled_by=user.sub), occurrence)
        docs.append((occurrence, [message]))
    written = await ctx.repo.insert_occurrences(docs)
    first = event_view(written[0], standing)
    return CreatedEvents(**first.model_dump(), occurrence_ids=[d["_id"] for d in written])


def _shifted(moment: datetime | None, shift: timedelta) -> datetime | None:
    return moment + shift if moment is not None else None


async def get_event(ctx: Context, user: Principal, event_id: str) -> EventView:
    event, standing = await ctx.visible_event(event_id, user.sub)
    return event_view(event, standing)


async def list_community_events(
    ctx: Context,
    user: Principal,
    community_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    cursor: str | None,
    limit: int,
) -> EventPage:
    standing = await ctx.facts.standing(user.sub)
    community = await ctx.facts.get_community(community_id)
    hidden = community is None or community.get("visibility") == "hidden"
    if community is None or (hidden and community_id not in standing.member_of):
        raise NotFound("no such community")
    key = decode_cursor(cursor, {"starts_at": str, "id": str})
    after = None
    if key is not None:
        try:
            after = (datetime.fromisoformat(key["starts_at"]), key["id"])
        except ValueError as exc:
            raise Problem(
                "cursor is malformed", status=400, errors=[{"field": "cursor", "message": "malformed"}]
            ) from exc
    items: list[EventView] = []
    # Keyset pages over the community's events, dropping those the caller may not see.
    while True:
        batch = await ctx.repo.community_page(community_id, start=start or now(), end=end, after=after, limit=limit + 1)
        page, more = batch[:limit], len(batch) > limit
        for event in page:
            if can_see(event, standing, community_hidden=hidden) and len(items) < limit:
                items.append(event_view(event, standing))
            after = (event["starts_at"], event["_id"])
        if len(items) >= limit or not more:
            break
    next_cursor = encode_cursor({"starts_at": after[0].isoformat(), "id": after[1]}) if more and after else None
    return EventPage(items=items, next_cursor=next_cursor)


async def update_event(ctx: Context, user: Principal, event_id: str, body: EventUpdate, *, series: bool) -> EventView:
    event, standing = await ctx.managed_event(event_id, user.sub)
    changes = fields_of(body)
    if "hosts" in changes:
        hosts = list(dict.fromkeys(changes["hosts"]))
        not_staff = set(hosts) - await ctx.facts.active_staff(event["community_id"], hosts)
        if not hosts or not_staff:
            raise invalid("hosts", "hosts must be the community's facilitators or owners")
        changes["hosts"] = hosts
    targets = [event]
    if series and event.get("series_id"):
        targets = await ctx.repo.series_from(event["series_id"], event["starts_at"])
    shift = changes["starts_at"] - event["starts_at"] if "starts_at" in changes else timedelta(0)
    duration = (changes.get("ends_at") or event["ends_at"]) - (changes.get("starts_at") or event["starts_at"])
    updated = event
    for target in targets:
        written = await _update_one(ctx, user, target["_id"], changes, shift, duration)
        if target["_id"] == event_id:
            updated = written
    return event_view(updated, standing)


async def _update_one(
    ctx: Context, user: Principal, event_id: str, changes: Doc, shift: timedelta, duration: timedelta
) -> Doc:
    async def plan(current: Doc) -> tuple[Doc, list[Outgoing]] | None:
        if current["status"] != EventStatus.SCHEDULED.value:
            raise Problem("a cancelled event cannot be changed", status=409)
        new = {**current, **changes}
        # Times move by the same shift for every occurrence of a series; the
        # registration window moves with them.
        if "starts_at" in changes or "ends_at" in changes:
            new["starts_at"] = current["starts_at"] + shift
            new["ends_at"] = new["starts_at"] + duration
        check_consistency(new)
        changed = sorted(k for k in set(changes) | {"starts_at", "ends_at"} if new.get(k) != current.get(k))
        if not changed:
            return None
        sets = {k: new[k] for k in changed}
        if "starts_at" in changed:
            if new["starts_at"] <= now():
                raise invalid("starts_at", "an event must start in the future")
            reminders = reminder_schedule(new["starts_at"], ctx.settings.reminder_offsets_minutes, now())
            sets.update(reminders=reminders, next_reminder_at=next_reminder(reminders))
        sets["updated_at"] = now()
        update: Doc = {"$set": sets}
        if set(changed) & CALENDAR_FIELDS:
            update["$inc"] = {"sequence": 1}
        entry = ctx.message(EventUpdated(event=event_snapshot(new), changed=changed, updated_by=user.sub), new)
        return update, [entry]

    written = await ctx.mutate(event_id, plan)
    if "capacity" in changes:
        written = await rebalance(ctx, written)  # more seats: the waitlist moves up
    return written


async def cancel_event(
    ctx: Context, user: Principal | None, event_id: str, *, series: bool, reason: str | None = None, actor: str = ""
) -> EventView | None:
    """Cancel one occurrence, or it and the later ones of its series. `user` None:
    a system cancellation (the community was archived)."""
    standing = None
    if user is not None:
        event, standing = await ctx.managed_event(event_id, user.sub)
        actor = user.sub
    else:
        found = await ctx.repo.get(event_id)
        if found is None:
            return None
        event = found
    targets = [event]
    if series and event.get("series_id"):
        targets = await ctx.repo.series_from(event["series_id"], event["starts_at"])
    result = event
    for target in targets:

        async def plan(current: Doc) -> tuple[Doc, list[Outgoing]] | None:
            if current["status"] == EventStatus.CANCELLED.value:
                return None  # cancelling twice is a no-op
            new = {**current, "status": EventStatus.CANCELLED.value}
            entry = ctx.message(EventCancelled(event=event_snapshot(new), cancelled_by=actor, reason=reason), new)
            update = {
                "$set": {"status": EventStatus.CANCELLED.value, "next_reminder_at": None, "updated_at": now()},
                "$inc": {"sequence": 1},
            }
            return update, [entry]

        written = await ctx.mutate(target["_id"], plan)
        if target["_id"] == event_id:
            result = written
    return event_view(result, standing) if user is not None else None
