"""A person's live stream: their new notifications, and their unread count when it moves,
as Server-Sent Events frames.

Items are read by `seq` (the person's gap-free number, in commit order), never taken
from the wake-up itself: after `Last-Event-ID: n` the stream sends every item after n,
then whatever is newer each time it is woken, each exactly once. The listener is
registered before the first read, so an item committed while catching up wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson

from weft_notifications.jobs.live_inbox import Listener, LiveInbox
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.inbox import notification_view
from weft_shared.service.actor import Person
from weft_shared.service.clock import now

PAGE = 100
KEEP_ALIVE = b": keep-alive\n\n"


def notification_frame(seq: int, data: bytes) -> bytes:
    return b"id: %d\nevent: notification\ndata: %s\n\n" % (seq, data)


def unread_frame(unread: int) -> bytes:
    # No `id:`: the client's Last-Event-ID stays that of the last notification it had.
    return b"event: unread\ndata: %s\n\n" % orjson.dumps({"unread": unread})


async def live_frames(
    ctx: NotificationsContext, live: LiveInbox, me: Person, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """Frames until the process stops or the caller's token expires; the caller stops
    iterating when the client goes."""
    settings = ctx.settings
    yield b"retry: %d\n\n" % settings.stream_retry_milliseconds
    with live.listen(me.id) as listener:
        counter = await ctx.storage.inbox.counter(me.id)
        newest = int(counter.get("seq", 0))
        # A number above the newest is not one this person was given: start from now.
        last = newest if last_event_id is None else min(last_event_id, newest)
        unread: int | None = None
        woken = True
        while not live.closing.is_set():
            if woken:  # the database is read only when something changed, never on a timer
                listener.woken.clear()
                counter = await ctx.storage.inbox.counter(me.id)
                async for frame in _items_after(ctx, me, last, int(counter.get("seq", 0))):
                    last, data = frame
                    yield notification_frame(last, data)
                now_unread = max(0, int(counter.get("unread", 0)))
                if now_unread != unread:
                    unread = now_unread
                    yield unread_frame(unread)
            # The token was checked once, on connect: the stream ends when it expires, and the
            # client reconnects with a fresh one (and its Last-Event-ID, so nothing is missed).
            token_left = me.principal.expires_at - now().timestamp()
            if token_left <= TOKEN_SLACK_SECONDS:  # a timer may fire a little early
                return
            heartbeat_due = settings.stream_heartbeat_seconds < token_left
            woken = await _woken_or_timeout(live, listener, min(settings.stream_heartbeat_seconds, token_left))
            if not woken and heartbeat_due:  # a quiet spell, not the token running out
                yield KEEP_ALIVE


TOKEN_SLACK_SECONDS = 0.05


async def _items_after(
    ctx: NotificationsContext, me: Person, last: int, newest: int
) -> AsyncIterator[tuple[int, bytes]]:
    """Items numbered after `last`, oldest first, a page at a time (memory stays one page)."""
    while last < newest:
        docs = await ctx.storage.inbox.after(me.id, last, PAGE)
        if not docs:
            return
        for doc in docs:
            last = int(doc["seq"])
            yield last, notification_view(doc).model_dump_json().encode()
        if len(docs) < PAGE:
            return


async def _woken_or_timeout(live: LiveInbox, listener: Listener, seconds: float) -> bool:
    """True when woken (or closing); False when `seconds` passed quietly (time for a heartbeat)."""
    waits = [asyncio.ensure_future(listener.woken.wait()), asyncio.ensure_future(live.closing.wait())]
    try:
        done, _pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    return bool(done)
