"""Refreshing a session's access token once, however many requests find it spent at once.

A page load brings more than one request (the page, the live stream, an htmx panel). With
rotating refresh tokens, two of them refreshing at once would present the same refresh token
twice, and a provider that detects reuse (as it should) then revokes the whole grant: the
person is signed out. So refreshes of one session wait for each other, and each looks again
at the stored session first: the one before it may already have done the work.

The lock is per process: several web replicas behind a load balancer should keep a browser
on one replica (session affinity), or a refresh racing on two replicas signs the person out.
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime, timedelta

from weft_web.context import WebContext
from weft_web.sessions import Session

# A token this close to expiry is refreshed (or the person signed out) before a page uses it.
REFRESH_MARGIN = timedelta(seconds=60)

_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def is_spent(session: Session) -> bool:
    return session.access_expires_at - REFRESH_MARGIN <= datetime.now(UTC)


async def fresh_session(web: WebContext, session_id: str, session: Session) -> Session | None:
    """The session with a usable access token, refreshed if needed; None: it has ended."""
    if not is_spent(session):
        return session
    lock = _locks.get(session_id)
    if lock is None:
        lock = _locks[session_id] = asyncio.Lock()
    async with lock:
        current = await web.sessions.find(session_id)
        if current is None or not is_spent(current):
            return current  # ended meanwhile, or refreshed by the request before this one
        refreshed = await web.refresher.refresh(current) if web.refresher and current.refresh_token else None
        if refreshed is not None:
            await web.sessions.replace_tokens(session_id, refreshed)
            return refreshed
        if current.access_expires_at > datetime.now(UTC):
            # The provider refused or did not answer, but the token still works: a hiccup at the
            # provider must not sign everyone out. The next request tries again.
            return current
        await web.sessions.end(session_id)
        return None
