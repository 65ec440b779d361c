"""A partner community's member pages through a community's threads: pages are full of
what they may see, and no cursor names a thread kept from them (Chatham House here)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import start_thread
from tests.resources.library import circle, link

Doc = dict[str, Any]


def _cursor_text(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode(errors="replace")


async def test_pages_skip_what_a_partner_may_not_see_and_cursors_never_name_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=1, facilitators=1)
    partner = await circle(web, resources_db, members=1, facilitators=1)
    await link(web, resources_db, home, partner)
    open_ids, chatham_ids = [], []
    for n in range(6):  # newest first: open, chatham, open, chatham, ...
        chatham = n % 2 == 1
        thread = await start_thread(web, home.id, home.owner, title=f"Thread {n}", chatham_house=chatham)
        (chatham_ids if chatham else open_ids).append(thread["id"])

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await web.get(f"/v1/communities/{home.id}/threads", params=params, headers=partner.member.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 2, "a page is full while there is more"
        assert not any(hidden in _cursor_text(cursor) for hidden in chatham_ids), "a cursor names a Chatham thread"
    assert seen == list(reversed(open_ids)) and pages <= 2
