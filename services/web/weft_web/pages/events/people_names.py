"""Display names for the user ids the events API returns (it knows ids, membership knows names)."""

from __future__ import annotations

from weft_web.gateway import Api

# A door list needs everyone; membership pages at most 100 a call.
_PAGE = 100
_MOST_PAGES = 50


async def member_names(api: Api, community_id: str) -> dict[str, str]:
    names: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(_MOST_PAGES):
        page = await api.get(f"/v1/communities/{community_id}/members", cursor=cursor, limit=_PAGE)
        for member in page["items"]:
            names[str(member["user_id"])] = str(member.get("display_name") or member["user_id"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return names
