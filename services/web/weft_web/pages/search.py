"""`/search`: library items and discussions across every community the viewer may see, with
the API's `<mark>`ed snippets, filters (community, kind, tag, archived) and keyset paging."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Api, Person
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.safe_html import snippet_html
from weft_web.rendering import render

router = APIRouter()

SEARCH_KINDS = ("file", "link", "note", "discussion", "question", "announcement", "comments", "reply")


def kind_options() -> list[tuple[str, str]]:
    return [
        ("", _("Everything")),
        ("file", _("Files")),
        ("link", _("Links")),
        ("note", _("Notes")),
        ("discussion", _("Discussions")),
        ("question", _("Questions")),
        ("announcement", _("Announcements")),
        ("comments", _("Comments on library items")),
        ("reply", _("Replies")),
    ]


def hit_url(hit: dict[str, Any]) -> str:
    if hit["type"] == "resource":
        return f"/resources/{hit['id']}"
    if hit["type"] == "reply" and hit.get("thread_id"):
        return f"/threads/{hit['thread_id']}"
    return f"/threads/{hit['id']}"


@router.get("/search", name="search")
async def search(request: Request, person: Person, api: Api) -> Response:
    query = request.query_params
    values = {
        "q": query.get("q", "").strip()[:500],
        "community_id": query.get("community_id", ""),
        "kind": query.get("kind", "") if query.get("kind", "") in SEARCH_KINDS else "",
        "tag": query.get("tag", "").strip().lower()[:64],
        "archived": "1" if query.get("archived") else "",
    }
    cursor = query.get("cursor") or None
    me = await api.get("/v1/me")
    names = {c["id"]: c["name"] for c in me.get("communities", [])}
    errors = FormErrors()
    hits: list[dict[str, Any]] = []
    next_cursor = None
    if values["q"]:
        try:
            page = await api.get(
                "/v1/search",
                q=values["q"],
                community_id=values["community_id"] or None,
                kind=values["kind"] or None,
                tag=values["tag"] or None,
                archived="true" if values["archived"] else None,
                cursor=cursor,
                limit=20,
            )
        except ApiError as exc:
            if exc.status not in (400, 422):
                raise
            errors = FormErrors.from_api(exc, {"q": "q", "community_id": "community_id", "kind": "kind", "tag": "tag"})
        else:
            next_cursor = page.get("next_cursor")
            hits = [
                {
                    **hit,
                    "url": hit_url(hit),
                    "snippet_html": snippet_html(hit["snippet"]),
                    "community": names.get(hit["community_id"]),
                }
                for hit in page["items"]
            ]
    elif "q" in query:
        errors.add("q", _("Enter the words to search for."))
    next_query = {**{k: v for k, v in values.items() if v}, "cursor": next_cursor} if next_cursor else None
    return render(
        request,
        "pages/search.html",
        {
            "section": "search",
            "hits": hits,
            "searched": bool(values["q"]) and not errors,
            "next_query": next_query,
            "first_page": cursor is None,
            "community_options": [
                ("", _("All my communities and the network")),
                *sorted(names.items(), key=lambda p: p[1]),
            ],
            "kind_options": kind_options(),
            "errors": errors.messages,
            "values": values,
        },
        status_code=422 if errors else 200,
    )
