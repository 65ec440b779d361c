""" "Who wrote this?": the author of an anonymous post, for the community's owners and facilitators.

The API answers other members 403; the page answers them the same 404 as for a post that
does not exist, so the control's route tells nobody else anything.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.gateway import ApiError
from weft_web.pages.discussions.author_names import names_for
from weft_web.pages.discussions.thread_view import frame_or_none
from weft_web.rendering import render

router = APIRouter()


@router.post("/threads/{thread_id}/author")
async def thread_author(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    return await _reveal(request, api, f"/v1/threads/{thread_id}", thread_id, None)


@router.post("/replies/{reply_id}/author")
async def reply_author(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    try:
        reply = await api.get(f"/v1/replies/{reply_id}")
    except ApiError as exc:
        if exc.status in (403, 404):
            return not_found(request)
        raise
    return await _reveal(request, api, f"/v1/replies/{reply['id']}", reply["thread_id"], reply)


async def _reveal(
    request: Request, api: Api, post_path: str, thread_id: str, reply: dict[str, object] | None
) -> Response:
    try:
        author = await api.get(f"{post_path}/author")
        thread = await api.get(f"/v1/threads/{thread_id}")
    except ApiError as exc:
        if exc.status in (403, 404):
            return not_found(request)
        raise
    names = await names_for(api, thread["community_id"], [author["author_id"]])
    frame = await frame_or_none(api, thread["community_id"])
    return render(
        request,
        "pages/post_author.html",
        {
            **(frame.context("discussions") if frame else {"frame": None, "section": "communities"}),
            "thread": thread,
            "reply": reply,
            "author_name": names.get(author["author_id"]),
            "anonymous": author["anonymous"],
        },
    )
