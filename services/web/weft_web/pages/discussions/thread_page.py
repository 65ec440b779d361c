"""`/threads/{id}`: a thread with its replies, and replying (quoting a reply, anonymously)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.discussions.listing import BODY_MAX
from weft_web.pages.discussions.thread_actions import thread_url
from weft_web.pages.discussions.thread_view import thread_context
from weft_web.rendering import render

router = APIRouter()


@router.get("/threads/{thread_id}", name="thread")
async def thread_page(
    request: Request, person: Person, api: Api, thread_id: str, cursor: str = "", quote: str = ""
) -> Response:
    context = await thread_context(api, thread_id, cursor=cursor, quote=quote)
    return render(request, "pages/thread.html", {**context, "values": {}, "body_max": BODY_MAX})


@router.post("/threads/{thread_id}/replies")
async def post_reply(request: Request, person: Person, api: Api, thread_id: str) -> Response:
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("body", "quotes_reply_id", "anonymous")}
    errors = FormErrors()
    body = errors.check("body", clean_text, values["body"], label=_("Your reply"), max_length=BODY_MAX, required=True)
    if not errors:
        payload: dict[str, object] = {"body": body, "anonymous": values["anonymous"] == "on"}
        if values["quotes_reply_id"]:
            payload["quotes_reply_id"] = values["quotes_reply_id"]
        try:
            reply = await api.post(f"/v1/threads/{thread_id}/replies", payload)
        except ApiError as exc:
            if exc.status not in (403, 409, 422):
                raise
            errors = FormErrors.from_api(exc, {"body": "body", "quotes_reply_id": "body", "anonymous": "anonymous"})
        else:
            back = thread_url(reply["thread_id"], f"reply-{reply['id']}")
            return flash.redirect(request, back, _("Your reply is posted."))
    context = await thread_context(api, thread_id, quote=values["quotes_reply_id"])
    return render(
        request,
        "pages/thread.html",
        {**context, "values": values, "errors": errors.messages, "body_max": BODY_MAX},
        status_code=422,
    )
