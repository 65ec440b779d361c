"""`/`: a signed-in person's home (their communities, next events, unread notifications, recent
discussions, newly endorsed resources); a welcome page otherwise.

The API has no "across my communities" lists, so the page asks each of the person's first
`FAN_OUT` communities at once (asyncio.gather) and merges: two rounds of parallel calls.
A section whose calls failed says so; the rest of the page still shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Api, Person, Viewer
from weft_web.gateway import ApiError
from weft_web.pages.notification_links import readable_time
from weft_web.pages.notifications import inbox
from weft_web.rendering import render

router = APIRouter()
FAN_OUT = 10  # communities asked for events, discussions and resources
SHOWN = 5  # items per section
Doc = dict[str, Any]


@dataclass
class Section:
    items: list[Doc] = field(default_factory=list)
    failed: bool = False


async def _gather_lists(calls: list[Awaitable[Any]]) -> Section:
    """Every page's items; `failed` if any call failed (a 404 is a community just left: skipped)."""
    section = Section()
    for result in await asyncio.gather(*calls, return_exceptions=True):
        if isinstance(result, ApiError):
            section.failed = section.failed or result.status != 404
        elif isinstance(result, BaseException):
            raise result
        else:
            section.items.extend(result["items"])
    return section


def _named(items: list[Doc], names: dict[str, str]) -> list[Doc]:
    return [{**item, "community_name": names.get(item.get("community_id", ""), "")} for item in items]


@router.get("/", name="home")
async def home(request: Request, viewer: Viewer, api: Api) -> Response:
    if viewer is None:
        return render(request, "pages/welcome.html", {"section": "home"})
    me, unread = await asyncio.gather(api.get("/v1/me"), _unread(api))
    communities = me["communities"][:FAN_OUT]
    names = {c["id"]: c["name"] for c in me["communities"]}
    events, threads, resources = await asyncio.gather(
        _gather_lists([api.get(f"/v1/communities/{c['id']}/events", limit=SHOWN) for c in communities]),
        _gather_lists([api.get(f"/v1/communities/{c['id']}/threads", limit=SHOWN) for c in communities]),
        _gather_lists([api.get(f"/v1/communities/{c['id']}/resources/recommended", limit=SHOWN) for c in communities]),
    )
    upcoming = sorted((e for e in events.items if e.get("status") == "scheduled"), key=lambda e: e["starts_at"])
    recent = sorted(threads.items, key=lambda t: t["activity_at"], reverse=True)
    endorsed = sorted(resources.items, key=lambda r: (r.get("endorsed") or {}).get("at", ""), reverse=True)
    return render(
        request,
        "pages/home.html",
        {
            "section": "home",
            "me": me,
            "unread": unread,
            "events": [{**e, "when": readable_time(e["starts_at"])} for e in _named(upcoming[:SHOWN], names)],
            "events_failed": events.failed,
            "threads": [{**t, "when": readable_time(t["activity_at"])} for t in _named(recent[:SHOWN], names)],
            "threads_failed": threads.failed,
            "resources": _named(endorsed[:SHOWN], names),
            "resources_failed": resources.failed,
        },
    )


async def _unread(api: Api) -> Doc:
    """The unread count and the latest few unread; `failed` if the inbox could not be read."""
    try:
        count, latest = await asyncio.gather(
            api.get("/v1/me/notifications/unread-count"), inbox(api, cursor=None, unread_only=True, limit=SHOWN)
        )
    except ApiError as error:
        if error.status == 401:
            raise
        return {"count": 0, "items": [], "failed": True}
    return {"count": int(count["unread"]), "items": latest["items"], "failed": False}


@router.get("/home/unread", name="home_unread", include_in_schema=False)
async def home_unread(request: Request, person: Person, api: Api) -> Response:
    """The home page's notifications section alone, re-fetched live when one arrives."""
    return render(request, "partials/home_unread.html", {"unread": await _unread(api)})
