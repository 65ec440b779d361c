"""Editing one's own thread or reply, and the earlier texts ("edited" links here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found
from weft_web.forms import FormErrors, clean_line, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.discussions.listing import BODY_MAX, TITLE_MAX
from weft_web.pages.discussions.thread_actions import thread_url
from weft_web.pages.discussions.thread_view import read_reply, read_thread
from weft_web.rendering import render

router = APIRouter()


@router.get("/threads/{thread_id}/edit")
async def edit_thread(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    thread = await read_thread(api, thread_id)
    if not thread.get("mine"):
        return not_found(request)
    values = {"title": thread["title"], "body": thread["body_markdown"]}
    return _form(request, thread, None, values, FormErrors())


@router.post("/threads/{thread_id}/edit")
async def save_thread(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    thread = await read_thread(api, thread_id)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("title", "body")}
    errors = FormErrors()
    title = errors.check("title", clean_line, values["title"], label=_("Title"), max_length=TITLE_MAX)
    body = errors.check("body", clean_text, values["body"], label=_("Message"), max_length=BODY_MAX, required=True)
    if not errors:
        try:
            await api.patch(f"/v1/threads/{thread['id']}", {"title": title, "body": body})
        except ApiError as exc:
            if exc.status not in (403, 409, 422):
                raise
            errors = FormErrors.from_api(exc, {"title": "title", "body": "body"})
        else:
            return flash.redirect(request, thread_url(thread["id"]), _("Your changes are saved."))
    return _form(request, thread, None, values, errors, status_code=422)


@router.get("/replies/{reply_id}/edit")
async def edit_reply(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    if not reply.get("mine"):
        return not_found(request)
    thread = await read_thread(api, reply["thread_id"])
    return _form(request, thread, reply, {"body": reply["body_markdown"] or ""}, FormErrors())


@router.post("/replies/{reply_id}/edit")
async def save_reply(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    thread = await read_thread(api, reply["thread_id"])
    values = {"body": str((await request.form()).get("body", ""))}
    errors = FormErrors()
    body = errors.check("body", clean_text, values["body"], label=_("Your reply"), max_length=BODY_MAX, required=True)
    if not errors:
        try:
            await api.patch(f"/v1/replies/{reply['id']}", {"body": body})
        except ApiError as exc:
            if exc.status not in (403, 409, 422):
                raise
            errors = FormErrors.from_api(exc, {"body": "body"})
        else:
            return flash.redirect(
                request, thread_url(thread["id"], f"reply-{reply['id']}"), _("Your changes are saved.")
            )
    return _form(request, thread, reply, values, errors, status_code=422)


def _form(
    request: Request,
    thread: dict[str, Any],
    reply: dict[str, Any] | None,
    values: dict[str, str],
    errors: FormErrors,
    *,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "pages/post_edit.html",
        {
            "section": "communities",
            "thread": thread,
            "reply": reply,
            "values": values,
            "errors": errors.messages,
            "title_max": TITLE_MAX,
            "body_max": BODY_MAX,
        },
        status_code=status_code,
    )


@router.get("/threads/{thread_id}/history")
async def thread_history(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    thread = await read_thread(api, thread_id)
    return await _history(request, api, f"/v1/threads/{thread['id']}/history", thread, None)


@router.get("/replies/{reply_id}/history")
async def reply_history(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    thread = await read_thread(api, reply["thread_id"])
    return await _history(request, api, f"/v1/replies/{reply['id']}/history", thread, reply)


async def _history(
    request: Request, api: Api, path: str, thread: dict[str, Any], reply: dict[str, Any] | None
) -> Response:
    try:
        history = await api.get(path)
    except ApiError as exc:
        if exc.status == 403:  # only the author and moderators: to others, as if there were none
            return not_found(request)
        raise
    return render(
        request,
        "pages/post_history.html",
        {"section": "communities", "thread": thread, "reply": reply, "versions": list(reversed(history["versions"]))},
    )
