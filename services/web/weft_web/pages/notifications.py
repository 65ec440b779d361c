"""`/notifications`: the inbox, newest first, with "older" paging, mark one read, mark all read.

The list is also served alone (`/notifications/list`) so the page can swap in a fresh copy when
a notification arrives on the live stream (`weft:refresh`); without JavaScript it is a plain page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.gateway import ApiError
from weft_web.i18n import _, ngettext
from weft_web.pages.notification_links import link_for, readable_time
from weft_web.rendering import render

router = APIRouter()
PAGE_SIZE = 20


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """An inbox item with where it links to and when, readably."""
    return {
        **item,
        "href": link_for(str(item.get("type", "")), item.get("target") or {}),
        "when": readable_time(item.get("created_at")),
    }


async def inbox(api: Api, *, cursor: str | None, unread_only: bool, limit: int = PAGE_SIZE) -> dict[str, Any]:
    page = await api.get("/v1/me/notifications", cursor=cursor, unread="true" if unread_only else None, limit=limit)
    return {"items": [shown(i) for i in page["items"]], "next_cursor": page["next_cursor"]}


def _filters(cursor: str | None, unread_only: bool) -> dict[str, Any]:
    return {"cursor": cursor or "", "unread_only": unread_only}


@router.get("/notifications", name="notifications")
async def notifications_page(
    request: Request, person: Person, api: Api, cursor: str | None = None, show: str | None = None
) -> Response:
    unread_only = show == "unread"
    listing = await _listing(api, cursor, unread_only)
    return render(
        request,
        "pages/notifications.html",
        {"section": "notifications", **listing, **_filters(cursor, unread_only)},
        status_code=200 if "list_error" not in listing else 400,
    )


@router.get("/notifications/list", name="notifications_list")
async def notifications_list(request: Request, person: Person, api: Api, show: str | None = None) -> Response:
    """The newest page of the list alone, for the live refresh."""
    unread_only = show == "unread"
    listing = await _listing(api, None, unread_only)
    return render(request, "partials/notification_list.html", {**listing, **_filters(None, unread_only)})


async def _listing(api: Api, cursor: str | None, unread_only: bool) -> dict[str, Any]:
    try:
        return await inbox(api, cursor=cursor, unread_only=unread_only)
    except ApiError as error:
        if error.status in (400, 422):  # a cursor from an old link: say so, offer the newest page
            return {"items": [], "next_cursor": None, "list_error": _("That page of notifications has gone.")}
        raise


@router.post("/notifications/read-all", name="notifications_read_all")
async def read_all(request: Request, person: Person, api: Api) -> Response:
    marked = await api.post("/v1/me/notifications/read-all")
    count = int((marked or {}).get("marked", 0))
    message = (
        ngettext("Marked %(num)s notification read.", "Marked %(num)s notifications read.", count)
        if count
        else _("Nothing was unread.")
    )
    return flash.redirect(request, "/notifications", message)


@router.post("/notifications/{notification_id}/read", name="notification_read")
async def read_one(
    request: Request,
    person: Person,
    api: Api,
    notification_id: str,
    cursor: str = Form(""),
    show: str = Form(""),
) -> Response:
    item = await api.post(f"/v1/me/notifications/{quote(notification_id, safe='')}/read")
    back = "/notifications"
    query = {k: v for k, v in {"cursor": cursor, "show": show}.items() if v}
    if query:
        back += "?" + urlencode(query)
    return flash.redirect(request, back, _("Marked read: %(title)s", title=item["title"]))
