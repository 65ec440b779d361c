"""A person's daily or weekly digest: one mail listing their unread notifications
routed to that digest which arrived since the last one and before this period's
hour; nothing when there is nothing (the period is recorded as empty).

The period's record and its queued mail commit together, and the record's `_id`
names the person and period: a second replica (or a restart) writing the same
period conflicts and, on retry, finds it there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from weft_notifications.domain.digest_periods import DigestKind, period_due
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.preferences import schedule_of

Doc = dict[str, Any]
# One mail lists at most this many; the rest go in the next period's digest.
MAX_ITEMS = 100


def _listed(item: Doc) -> Doc:
    fields = ("type", "title", "text", "community_id", "target", "created_at", "seq")
    return {"id": item["_id"], **{f: item.get(f) for f in fields}}


async def send_digest(ctx: NotificationsContext, user_id: str, kind: DigestKind, at: datetime) -> bool:
    """Queue this person's digest of the period due at `at`, unless it went already or is empty."""
    storage = ctx.storage
    channel = f"digest_{kind}"

    async def work(_tx: object) -> bool:
        period = period_due(kind, schedule_of(ctx.settings, await storage.preferences.of(user_id)), at)
        record_id = f"{user_id}:{period.name}"
        if await storage.digests.record(record_id) is not None:
            return False
        last = await storage.digests.last(user_id, kind)
        after_seq = int(last["through_seq"]) if last else 0
        candidates = await storage.digests.unread(user_id, channel, after_seq, MAX_ITEMS)
        # What arrived after this period's hour waits for the next one.
        items = [i for i in candidates if i["created_at"] < period.due_at]
        # An empty period is recorded too (no mail): the job then passes over this person
        # until the next period instead of looking again every minute.
        await storage.digests.add(
            {
                "_id": record_id,
                "user_id": user_id,
                "kind": kind,
                "period": period.name,
                "due_at": period.due_at,
                "through_seq": items[-1]["seq"] if items else after_seq,
                "count": len(items),
                "created_at": at,
            }
        )
        if not items:
            return False
        await storage.email_outbox.enqueue_record(
            {
                "_id": f"digest:{record_id}",
                "user_id": user_id,
                "digest": {"kind": kind, "period": period.name, "items": [_listed(i) for i in items]},
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": at,
                "created_at": at,
            }
        )
        return True

    try:
        return await ctx.uow.run(work)
    except DuplicateKeyError:  # another replica queued this period's digest first
        return False


async def not_yet_done(ctx: NotificationsContext, kind: DigestKind, at: datetime, user_ids: list[str]) -> list[str]:
    """Those of `user_ids` whose digest of the period due at `at` has no record yet (two
    queries for the batch, so people already done cost no transaction each minute)."""
    preferences = await ctx.storage.preferences.of_people(user_ids)
    record_ids = {
        user_id: f"{user_id}:{period_due(kind, schedule_of(ctx.settings, preferences.get(user_id)), at).name}"
        for user_id in user_ids
    }
    done = await ctx.storage.digests.existing(list(record_ids.values()))
    return [user_id for user_id in user_ids if record_ids[user_id] not in done]
