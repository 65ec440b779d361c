"""Reporting a thread or a reply to the community's moderators, with a reason."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.discussions.kinds import REPORT_REASONS, reason_label
from weft_web.pages.discussions.thread_actions import thread_url
from weft_web.pages.discussions.thread_view import read_reply, read_thread
from weft_web.rendering import render

router = APIRouter()

DETAILS_MAX = 2_000


@router.get("/threads/{thread_id}/report")
async def report_thread_form(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    thread = await read_thread(api, thread_id)
    return _form(request, thread, None, {}, FormErrors())


@router.post("/threads/{thread_id}/report")
async def report_thread(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    thread = await read_thread(api, thread_id)
    return await _report(request, api, thread, None)


@router.get("/replies/{reply_id}/report")
async def report_reply_form(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    thread = await read_thread(api, reply["thread_id"])
    return _form(request, thread, reply, {}, FormErrors())


@router.post("/replies/{reply_id}/report")
async def report_reply(request: Request, person: Person, api: Api, reply_id: str) -> Response:
    reply = await read_reply(api, reply_id)
    thread = await read_thread(api, reply["thread_id"])
    return await _report(request, api, thread, reply)


async def _report(request: Request, api: Api, thread: dict[str, Any], reply: dict[str, Any] | None) -> Response:
    form = await request.form()
    values = {"reason": str(form.get("reason", "")), "details": str(form.get("details", ""))}
    errors = FormErrors()
    if values["reason"] not in REPORT_REASONS:
        errors.add("reason", _("Choose why you are reporting it."))
    details = errors.check("details", clean_text, values["details"], label=_("Details"), max_length=DETAILS_MAX)
    if not errors:
        content = {"kind": "reply", "id": reply["id"]} if reply else {"kind": "thread", "id": thread["id"]}
        try:
            await api.post("/v1/reports", {"content": content, "reason": values["reason"], "details": details})
        except ApiError as exc:
            if exc.status not in (403, 409, 422):
                raise
            errors = FormErrors.from_api(exc, {"reason": "reason", "details": "details"})
        else:
            back = thread_url(thread["id"], f"reply-{reply['id']}" if reply else "")
            return flash.redirect(request, back, _("Thank you. The community's moderators will look at it."))
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
        "pages/report.html",
        {
            "section": "communities",
            "thread": thread,
            "reply": reply,
            "values": values,
            "errors": errors.messages,
            "reasons": [("", _("Choose a reason"))] + [(r, reason_label(r)) for r in REPORT_REASONS],
            "details_max": DETAILS_MAX,
        },
        status_code=status_code,
    )
