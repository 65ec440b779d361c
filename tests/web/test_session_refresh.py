"""Refreshing a session's tokens (weft_web.session_refresh) on the real database.

The refresher stands in for the identity provider (outside the product): it counts how often
it is asked, and answers with new tokens, a refusal, or nothing at all.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import AsyncMongoClient

from weft_cli.ladder import DatabaseHandle
from weft_shared.settings import PlatformSettings
from weft_web import i18n
from weft_web.context import WebContext
from weft_web.gateway import Gateway
from weft_web.rendering import Pages
from weft_web.session_refresh import fresh_session
from weft_web.sessions import Session, SessionStore, new_session_id
from weft_web.settings import WebSettings


class Provider:
    def __init__(self, *, answers: bool) -> None:
        self.answers = answers
        self.asked = 0

    async def refresh(self, session: Session) -> Session | None:
        self.asked += 1
        await asyncio.sleep(0.05)  # a round trip, so concurrent callers overlap
        if not self.answers:
            return None
        return replace(
            session,
            access_token=f"access-{self.asked}",
            refresh_token=f"refresh-{self.asked}",
            access_expires_at=datetime.now(UTC) + timedelta(minutes=10),
        )


@pytest.fixture
async def sessions(database: DatabaseHandle) -> AsyncIterator[SessionStore]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(database.url, tz_aware=True)
    try:
        store = SessionStore(client[f"weft_web_refresh_{secrets.token_hex(3)}"], lifetime=timedelta(hours=1))
        await store.create_indexes()
        yield store
    finally:
        await client.close()


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    found = Gateway("http://127.0.0.1:9", timeout_seconds=1)  # never called here
    try:
        yield found
    finally:
        await found.close()


def _context(sessions: SessionStore, gateway: Gateway, provider: Provider) -> WebContext:
    settings = WebSettings(platform=PlatformSettings(env="dev"))
    return WebContext(
        settings, Pages(settings, i18n.load("en")), gateway, sessions, sessions._sessions.database, refresher=provider
    )


def _session(*, expires_in: timedelta) -> Session:
    return Session(
        sub="ana",
        name="Ana",
        email="ana@example.org",
        access_token="access-0",
        access_expires_at=datetime.now(UTC) + expires_in,
        refresh_token="refresh-0",
        id_token=None,
        provider="oidc",
    )


async def _stored(sessions: SessionStore, session: Session) -> str:
    return await sessions.start(session)


async def test_requests_that_find_the_token_spent_at_once_refresh_it_once(
    sessions: SessionStore, gateway: Gateway
) -> None:
    provider = Provider(answers=True)
    web = _context(sessions, gateway, provider)
    spent = _session(expires_in=timedelta(seconds=20))
    session_id = await _stored(sessions, spent)
    results = await asyncio.gather(*(fresh_session(web, session_id, spent) for _ in range(5)))
    # One refresh: a rotating refresh token presented twice would make the provider revoke the grant.
    assert provider.asked == 1
    assert {result.access_token for result in results if result} == {"access-1"}
    stored = await sessions.find(session_id)
    assert stored is not None and stored.refresh_token == "refresh-1"


async def test_a_token_far_from_expiry_is_used_as_it_is(sessions: SessionStore, gateway: Gateway) -> None:
    provider = Provider(answers=True)
    web = _context(sessions, gateway, provider)
    fresh = _session(expires_in=timedelta(minutes=10))
    assert await fresh_session(web, await _stored(sessions, fresh), fresh) == fresh
    assert provider.asked == 0


async def test_a_provider_that_does_not_answer_keeps_a_token_that_still_works(
    sessions: SessionStore, gateway: Gateway
) -> None:
    web = _context(sessions, gateway, Provider(answers=False))
    spent = _session(expires_in=timedelta(seconds=20))
    session_id = await _stored(sessions, spent)
    kept = await fresh_session(web, session_id, spent)
    assert kept is not None and kept.access_token == "access-0"
    assert await sessions.find(session_id) is not None


async def test_an_expired_token_that_cannot_be_refreshed_ends_the_session(
    sessions: SessionStore, gateway: Gateway
) -> None:
    web = _context(sessions, gateway, Provider(answers=False))
    expired = _session(expires_in=timedelta(seconds=-5))
    session_id = await _stored(sessions, expired)
    assert await fresh_session(web, session_id, expired) is None
    assert await sessions.find(session_id) is None
    assert await fresh_session(web, new_session_id(), expired) is None
