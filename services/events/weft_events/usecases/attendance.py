"""The caller's attendance record: occurrences where a host checked them in, newest first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from weft_events.attendance import checked_in_entry, duration_minutes, local_times
from weft_events.domain import Doc
from weft_events.schemas import AttendancePage, AttendanceRecord
from weft_events.usecases.context import Context
from weft_shared.errors import BadRequest
from weft_shared.service.cursors import decode_cursor, encode_cursor

# Occurrences read per query: the person's RSVPs without a check-in (no-shows,
# upcoming events) are skipped in Python, so read more than one page's worth.
BATCH = 100


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise BadRequest("'to' must be after 'from'", field="to")


def _decode(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, {"starts_at": str, "id": str})
    if key is None:
        return None
    try:
        return datetime.fromisoformat(key["starts_at"]), key["id"]
    except ValueError as exc:
        raise BadRequest("cursor is malformed", field="cursor") from exc


class CommunityNames:
    """Names from the read model, looked up once per community per request."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.known: dict[str, str | None] = {}

    async def __call__(self, community_id: str) -> str | None:
        if community_id not in self.known:
            fact = await self.ctx.facts.get_community(community_id)
            self.known[community_id] = fact.get("name") if fact else None
        return self.known[community_id]


def record_of(event: Doc, entry: Doc, community_name: str | None) -> AttendanceRecord:
    local = local_times(event)
    return AttendanceRecord(
        event_id=event["_id"],
        series_id=event.get("series_id"),
        title=event["title"],
        community_id=event["community_id"],
        community_name=community_name,
        format=event["format"],
        attendance=entry["mode"],
        timezone=event["timezone"],
        starts_at=event["starts_at"],
        ends_at=event["ends_at"],
        local_date=local.date,
        local_start=local.start,
        local_end=local.end,
        duration_minutes=duration_minutes(event),
        checked_in_at=entry["checked_in_at"],
        checked_in_by=entry["checked_in_by"],
        event_status=event["status"],
    )


async def _attended(
    ctx: Context,
    user_id: str,
    start: datetime | None,
    end: datetime | None,
    before: tuple[datetime, str] | None,
    want: int,
) -> list[tuple[Doc, Doc]]:
    """Up to `want` (event, own entry) pairs, newest first, after the keyset `before`."""
    found: list[tuple[Doc, Doc]] = []
    while len(found) < want:
        batch = await ctx.repo.with_attendee_newest_first(user_id, start=start, end=end, before=before, limit=BATCH)
        for event in batch:
            entry = checked_in_entry(event, user_id)
            if entry is not None:
                found.append((event, entry))
            before = (event["starts_at"], event["_id"])
        if len(batch) < BATCH:
            break
    return found[:want]


async def my_attendance(
    ctx: Context, user_id: str, *, start: datetime | None, end: datetime | None, cursor: str | None, limit: int
) -> AttendancePage:
    check_window(start, end)
    found = await _attended(ctx, user_id, start, end, _decode(cursor), limit + 1)
    page = found[:limit]
    names = CommunityNames(ctx)
    items = [record_of(event, entry, await names(event["community_id"])) for event, entry in page]
    next_cursor = None
    if len(found) > limit:
        last = page[-1][0]
        next_cursor = encode_cursor({"starts_at": last["starts_at"].isoformat(), "id": last["_id"]})
    return AttendancePage(items=items, next_cursor=next_cursor)


async def all_attendance(
    ctx: Context, user_id: str, *, start: datetime | None, end: datetime | None
) -> AsyncIterator[AttendanceRecord]:
    """Every record in the window, newest first (for the CSV export)."""
    check_window(start, end)
    names = CommunityNames(ctx)
    before: tuple[datetime, str] | None = None
    while True:
        found = await _attended(ctx, user_id, start, end, before, BATCH)
        for event, entry in found:
            yield record_of(event, entry, await names(event["community_id"]))
        if len(found) < BATCH:
            return
        before = (found[-1][0]["starts_at"], found[-1][0]["_id"])
