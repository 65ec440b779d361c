"""Partner communities: the active links the viewer may see, with the other community's name.

A link whose other side the API withholds (null id), or whose community the viewer may not
see (404), is left out: a hidden community never shows through its links.
"""

from __future__ import annotations

import asyncio
from typing import Any

from weft_web.gateway import Api, ApiError


def other_side(link: dict[str, Any], community_id: str) -> str | None:
    ends = [link.get("from_community_id"), link.get("to_community_id")]
    others = [end for end in ends if end and end != community_id]
    return str(others[0]) if others else None


async def _community_or_none(api: Api, community_id: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await api.get(f"/v1/communities/{community_id}")
    except ApiError as error:
        if error.status in (403, 404):
            return None
        raise
    return found


async def links_of(api: Api, community_id: str) -> list[dict[str, Any]] | None:
    """Every link the viewer may see; None where the community's links are members-only."""
    try:
        links: list[dict[str, Any]] = await api.get(f"/v1/communities/{community_id}/links")
    except ApiError as error:
        if error.status == 403:
            return None
        raise
    return links


async def with_communities(api: Api, community_id: str, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each link as {"link": …, "community": … or None} (None: not shown to this viewer)."""
    others = [other_side(link, community_id) for link in links]
    found = await asyncio.gather(*(_community_or_none(api, o) if o else _none() for o in others))
    return [{"link": link, "community": community} for link, community in zip(links, found, strict=True)]


async def partner_communities(api: Api, community_id: str, links: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The partners to show, from the community's links (`links_of`)."""
    active = [link for link in links or [] if link.get("status") == "active"]
    pairs = await with_communities(api, community_id, active)
    return [pair["community"] for pair in pairs if pair["community"] is not None]


async def _none() -> None:
    return None
