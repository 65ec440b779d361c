"""Unsubscribe links from mails: no login, the signed token is the proof.

GET answers a page for the person who clicked, saying what the link turns off,
with a button; it changes nothing, because mail scanners and link previews fetch
links in mails, and would otherwise unsubscribe people who never clicked (RFC 8058
puts the change on POST for this reason). POST turns it off, idempotently: the
page's button (answered with a page) and the one-click unsubscribe mail clients
send (`List-Unsubscribe=One-Click`, answered with text).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from weft_notifications.api.deps import Ctx
from weft_notifications.usecases import unsubscribe
from weft_notifications.usecases.mail import preferences_url, render_page
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"])
Token = Annotated[str, Path(min_length=1, max_length=1000)]


@router.get("/{token}", response_class=HTMLResponse, responses=problem_responses(404))
async def unsubscribe_page(ctx: Ctx, token: Token, request: Request) -> HTMLResponse:
    """Says what the link turns off, with a button that does it (a POST to the same URL)."""
    what = await unsubscribe.preview(ctx, token)
    page = render_page(
        ctx.settings,
        "unsubscribe_confirm.html.j2",
        what=what,
        action=request.url.path,
        preferences_url=preferences_url(ctx.settings),
    )
    return HTMLResponse(page)


@router.post(
    "/{token}",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/html": {}}}, **problem_responses(404)},
)
async def unsubscribe_now(ctx: Ctx, token: Token, request: Request) -> Response:
    """Turns it off. RFC 8058 one-click (the mail client posts `List-Unsubscribe=One-Click`)
    is answered with text; the page's button (a browser, accepting HTML) with a page."""
    what = await unsubscribe.unsubscribe(ctx, token)
    if "text/html" in request.headers.get("accept", ""):
        page = render_page(
            ctx.settings, "unsubscribed.html.j2", what=what, preferences_url=preferences_url(ctx.settings)
        )
        return HTMLResponse(page)
    return PlainTextResponse(f"You will no longer get {what}.\n")
