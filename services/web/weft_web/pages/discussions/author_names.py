"""Display names for the author ids the discussion API returns.

The resources service knows authors only by id; names live in the membership service. The
community's member list (which the viewer may or may not be allowed to read) is the one
place the public API gives them, so we read it a page at a time until every wanted id is
named. Ids it does not name show as "A member".
"""

from __future__ import annotations

from collections.abc import Iterable

from weft_web.gateway import Api, ApiError

# Enough for a 1,000-member community; past that, unknown names fall back to "A member".
_MAX_PAGES = 10
_PAGE_SIZE = 100


async def names_for(api: Api, community_id: str, author_ids: Iterable[str | None]) -> dict[str, str]:
    wanted = {author for author in author_ids if author}
    names: dict[str, str] = {}
    if not wanted:
        return names
    cursor: str | None = None
    for _page in range(_MAX_PAGES):
        try:
            page = await api.get(f"/v1/communities/{community_id}/members", cursor=cursor, limit=_PAGE_SIZE)
        except ApiError:
            return names  # the viewer may not read the member list: names stay unknown
        for member in page.get("items", []):
            if member.get("user_id") in wanted and member.get("display_name"):
                names[member["user_id"]] = member["display_name"]
        cursor = page.get("next_cursor")
        if not cursor or wanted <= names.keys():
            break
    return names
