"""`/unsubscribe/{token}`: where a mail's unsubscribe link can land in the web app.

Opening it changes nothing (mail scanners and link previews follow links): it says what the
link turns off, with a button; the button (a POST, no sign-in needed: the signed token is the
proof) turns it off. A bad token gets one message that says nothing about why.
"""

from __future__ import annotations

import html
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Web
from weft_web.gateway import Api, ApiError
from weft_web.rendering import render

router = APIRouter()
# The notifications service signs tokens in URL-safe characters; anything else is not one of ours.
_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,1000}\Z")
# The API's confirmation page says "Stop <what>?"; the one-click answer "You will no longer get <what>."
_PREVIEW = re.compile(r"<p>Stop (.+?)\?</p>", re.S)
_DONE = re.compile(r"You will no longer get (.+?)\.\s*\Z", re.S)


def _api(web: Web) -> Api:
    return web.gateway.as_person(None)  # the token is the proof: no one's session is involved


def _bad_link(request: Request) -> Response:
    return render(request, "pages/unsubscribe_bad.html", {}, status_code=404)


@router.get("/unsubscribe/{token}", name="unsubscribe")
async def unsubscribe_page(request: Request, web: Web, token: str) -> Response:
    if not _TOKEN.match(token):
        return _bad_link(request)
    try:
        answer = await _api(web).request("GET", f"/v1/unsubscribe/{token}", headers={"Accept": "text/html"})
    except ApiError as error:
        if error.status in (404, 422):
            return _bad_link(request)
        raise
    found = _PREVIEW.search(answer.text)
    what = html.unescape(found.group(1)) if found else None
    return render(request, "pages/unsubscribe.html", {"what": what, "token": token})


@router.post("/unsubscribe/{token}", name="unsubscribe_confirm")
async def unsubscribe_confirm(request: Request, web: Web, token: str) -> Response:
    if not _TOKEN.match(token):
        return _bad_link(request)
    try:
        answer = await _api(web).request("POST", f"/v1/unsubscribe/{token}", headers={"Accept": "text/plain"})
    except ApiError as error:
        if error.status in (404, 422):
            return _bad_link(request)
        raise
    found = _DONE.search(answer.text)
    return render(request, "pages/unsubscribed.html", {"what": found.group(1) if found else None})
