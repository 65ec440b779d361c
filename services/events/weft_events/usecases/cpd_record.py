"""A person's CPD record: the occurrences a host checked them in at, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from weft_events.domain.check_ins import local_times
from weft_events.domain.events import Doc, duration_minutes
from weft_events.schemas import CpdRecordEntry, CpdRecordPage
from weft_events.usecases.context import EventsContext
from weft_events.usecases.paging import check_window, decode_start_cursor, encode_start_cursor
from weft_shared.service.actor import Person

# Check-ins read per query of the whole record (the CSV export).
BATCH = 100


class CommunityNames:
    """Names from the membership view, looked up once per community per request."""

    def __init__(self, ctx: EventsContext) -> None:
        self.ctx = ctx
        self.known: dict[str, str | None] = {}

    async def __call__(self, community_id: str) -> str | None:
        if community_id not in self.known:
            community = await self.ctx.storage.membership.community(community_id)
            self.known[community_id] = community.get("name") if community else None
        return self.known[community_id]


def entry_of(event: Doc, check_in: Doc, community_name: str | None) -> CpdRecordEntry:
    local = local_times(event)
    return CpdRecordEntry(
        event_id=event["_id"],
        series_id=event.get("series_id"),
        title=event["title"],
        community_id=event["community_id"],
        community_name=community_name,
        format=event["format"],
        attendance=check_in["mode"],
        timezone=event["timezone"],
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        local_date=local.date,
        local_start=local.start,
        local_end=local.end,
        duration_minutes=duration_minutes(event),
        checked_in_at=check_in["checked_in_at"],
        checked_in_by=check_in["checked_in_by"],
        event_status=event["status"],
    )


async def _entries(ctx: EventsContext, check_ins: list[Doc], names: CommunityNames) -> list[CpdRecordEntry]:
    """Every occurrence the person was checked in at, even one they may no longer see
    (they left its community): a host admitted them, so it shows them nothing they did
    not know, and the record is their evidence. Nobody else's record is ever read."""
    events = await ctx.storage.events.by_ids([c["event_id"] for c in check_ins])
    return [
        entry_of(events[c["event_id"]], c, await names(events[c["event_id"]]["community_id"]))
        for c in check_ins
        if c["event_id"] in events
    ]


async def cpd_record_page(
    ctx: EventsContext, person: Person, *, start: datetime | None, end: datetime | None, cursor: str | None, limit: int
) -> CpdRecordPage:
    check_window(start, end)
    found = await ctx.storage.check_ins.of_person_newest_first(
        person.id, start=start, end=end, before=decode_start_cursor(cursor), limit=limit + 1
    )
    page = found[:limit]
    next_cursor = encode_start_cursor(page[-1]["starts_at"], page[-1]["event_id"]) if len(found) > limit else None
    return CpdRecordPage(items=await _entries(ctx, page, CommunityNames(ctx)), next_cursor=next_cursor)


async def whole_cpd_record(
    ctx: EventsContext, person: Person, *, start: datetime | None, end: datetime | None
) -> AsyncIterator[CpdRecordEntry]:
    """Every entry in the window, newest first (for the CSV export)."""
    check_window(start, end)
    names = CommunityNames(ctx)
    before: tuple[datetime, str] | None = None
    while True:
        found = await ctx.storage.check_ins.of_person_newest_first(
            person.id, start=start, end=end, before=before, limit=BATCH
        )
        for entry in await _entries(ctx, found, names):
            yield entry
        if len(found) < BATCH:
            return
        before = (found[-1]["starts_at"], found[-1]["event_id"])
