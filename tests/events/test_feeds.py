"""Personal calendar feed tokens, through the use cases on a real database."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from tests.events.conftest import Rig
from weft_events.domain.calendar_feeds import token_hash
from weft_events.usecases.calendars import create_feed, feed_calendar, revoke_feed
from weft_events.usecases.context import EventsContext
from weft_shared.auth import Principal
from weft_shared.errors import NotFound
from weft_shared.service.actor import Person


def person(user_id: str) -> Person:
    return Person(Principal(sub=user_id, email=None, name=None, expires_at=0.0))


async def owner_of(ctx: EventsContext, token: str) -> str | None:
    """Whose feed the token opens (None: it opens none), as the feed route asks."""
    try:
        await feed_calendar(ctx, token)
    except NotFound:
        return None
    return await ctx.storage.calendar_feeds.owner_of(token_hash(token))


async def test_a_new_token_opens_its_owners_feed_and_only_its_hash_is_stored(rig: Rig) -> None:
    ctx = rig.context()
    token = await create_feed(ctx, person("ana"))
    assert len(token) == 43
    assert await owner_of(ctx, token) == "ana"
    stored = await rig.db.calendar_feeds.find_one({"_id": "ana"})
    assert stored is not None and stored["token_hash"] == token_hash(token)
    assert token not in str(stored)


@pytest.mark.parametrize("token", ["", "not/a token", "x" * 500])
async def test_malformed_tokens_open_nothing(rig: Rig, token: str) -> None:
    ctx = rig.context()
    await create_feed(ctx, person("ana"))
    assert await owner_of(ctx, token) is None


async def test_an_unknown_token_opens_nothing(rig: Rig) -> None:
    ctx = rig.context()
    await create_feed(ctx, person("ana"))
    assert await owner_of(ctx, secrets.token_urlsafe(32)) is None


async def test_a_revoked_token_stops_working(rig: Rig) -> None:
    ctx = rig.context()
    token = await create_feed(ctx, person("ana"))
    other = await create_feed(ctx, person("ben"))
    assert await revoke_feed(ctx, person("ana")) is True
    assert await owner_of(ctx, token) is None
    assert await owner_of(ctx, other) == "ben"  # someone else's feed is untouched
    assert await revoke_feed(ctx, person("ana")) is False  # revoking again is fine and changes nothing
    assert await revoke_feed(ctx, person("cai")) is False  # as is revoking a feed never made


async def test_a_new_feed_replaces_the_previous_one(rig: Rig) -> None:
    ctx = rig.context()
    first = await create_feed(ctx, person("ana"))
    second = await create_feed(ctx, person("ana"))
    third = await create_feed(ctx, person("ana"))
    assert [await owner_of(ctx, t) for t in (first, second, third)] == [None, None, "ana"]


async def test_racing_creates_leave_exactly_one_live_feed(rig: Rig) -> None:
    ctx = rig.context()
    tokens = await asyncio.gather(*(create_feed(ctx, person("ana")) for _ in range(10)))
    live = [t for t in tokens if await owner_of(ctx, t) == "ana"]
    assert len(live) == 1
