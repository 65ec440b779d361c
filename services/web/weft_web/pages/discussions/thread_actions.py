"""One-button actions on a thread page: accept an answer, react, follow. Each redirects back."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.discussions.kinds import REACTIONS
from weft_web.pages.discussions.thread_view import read_reply

router = APIRouter()


def thread_url(thread_id: str, anchor: str = "") -> str:
    return f"/threads/{quote(thread_id, safe='')}" + (f"#{anchor}" if anchor else "")


@router.post("/threads/{thread_id}/accepted-answer")
async def accept_answer(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    reply_id = str((await request.form()).get("reply_id", ""))
    try:
        if reply_id:
            await api.put(f"/v1/threads/{thread_id}/accepted-answer", {"reply_id": reply_id})
        else:
            await api.delete(f"/v1/threads/{thread_id}/accepted-answer")
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        return flash.redirect(request, thread_url(thread_id), exc.detail, level="error")
    message = _("You marked the accepted answer.") if reply_id else _("The reply is no longer marked as the answer.")
    return flash.redirect(request, thread_url(thread_id, f"reply-{reply_id}" if reply_id else ""), message)


@router.post("/threads/{thread_id}/reactions")
async def react_to_thread(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    return await _react(request, api, f"/v1/threads/{thread_id}/reactions", thread_url(thread_id, "thread-title"))


@router.post("/replies/{reply_id}/reactions")
async def react_to_reply(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    return await _react(
        request, api, f"/v1/replies/{reply['id']}/reactions", thread_url(reply["thread_id"], f"reply-{reply['id']}")
    )


async def _react(request: Request, api: Api, api_path: str, back: str) -> Response:
    form = await request.form()
    emoji = str(form.get("emoji", ""))
    if emoji not in REACTIONS:
        return not_found(request)
    try:
        if form.get("on") == "0":
            await api.delete(f"{api_path}/{emoji}")
        else:
            await api.put(f"{api_path}/{emoji}")
    except ApiError as exc:
        if exc.status != 409:
            raise
        return flash.redirect(request, back, exc.detail, level="error")
    return flash.redirect(request, back)


@router.post("/threads/{thread_id}/follow")
async def follow(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    on = (await request.form()).get("on") != "0"
    if on:
        await api.put(f"/v1/threads/{thread_id}/follow")
    else:
        await api.delete(f"/v1/threads/{thread_id}/follow")
    message = _("You will be told about new replies.") if on else _("You no longer follow this thread.")
    return flash.redirect(request, thread_url(thread_id), message)
