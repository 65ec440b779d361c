"""Gathering events from the API: a community's, and the viewer's across their communities."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from weft_web.gateway import Api, ApiError
from weft_web.pages.events.when import instant

# Enough for a month of a busy community; the API pages by cursor beyond that.
_PAGE = 100


async def community_events(
    api: Api, community_id: str, *, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    page = await api.get(
        f"/v1/communities/{community_id}/events",
        **{"from": start.isoformat() if start else None, "to": end.isoformat() if end else None, "limit": _PAGE},
    )
    items: list[dict[str, Any]] = page["items"]
    return items


async def my_events(api: Api, *, start: datetime, end: datetime | None = None) -> list[dict[str, Any]]:
    """Events of every community the viewer belongs to, soonest first (there is no one API
    call for this: the events API lists per community)."""
    me = await api.get("/v1/me")
    communities = {str(c["id"]): c for c in me.get("communities", [])}

    async def of(community_id: str) -> list[dict[str, Any]]:
        try:
            return await community_events(api, community_id, start=start, end=end)
        except ApiError as exc:
            if exc.status in (403, 404):
                return []  # left or removed since /v1/me was read
            raise

    found: dict[str, dict[str, Any]] = {}
    for events in await asyncio.gather(*(of(cid) for cid in communities)):
        for event in events:
            community = communities.get(str(event["community_id"]))
            found[event["id"]] = {**event, "community_name": community["name"] if community else None}
    return sorted(found.values(), key=lambda e: instant(e["starts_at"]))
