"""`/communities/{id}/members`: the members this viewer may see (the API decides), with roles."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from weft_web.deps import Api, Person
from weft_web.gateway import ApiError
from weft_web.pages.communities.ids import CommunityIdPath
from weft_web.pages.community_frame import community_frame
from weft_web.rendering import render

router = APIRouter()


async def _members_page(api: Api, community_id: str, cursor: str) -> dict[str, Any] | None:
    """One page of members; None where the list is for members only (the page says so)."""
    try:
        page: dict[str, Any] = await api.get(f"/v1/communities/{community_id}/members", cursor=cursor, limit=50)
    except ApiError as error:
        if error.status != 403:
            raise
        return None
    return page


@router.get("/communities/{community_id}/members", name="community_members")
async def members(
    request: Request,
    person: Person,
    api: Api,
    community_id: CommunityIdPath,
    cursor: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    frame, page = await asyncio.gather(community_frame(api, community_id), _members_page(api, community_id, cursor))
    return render(request, "pages/communities/members.html", {**frame.context("members"), "page": page})
