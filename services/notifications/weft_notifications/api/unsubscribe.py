"""Unsubscribe links from mails: no login, the signed token is the proof.

GET answers a page for the person who clicked; POST is the one-click unsubscribe
mail clients send (RFC 8058, `List-Unsubscribe=One-Click`). Both turn the same
thing off and are idempotent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, PlainTextResponse

from weft_notifications.api.deps import Ctx
from weft_notifications.usecases import unsubscribe
from weft_notifications.usecases.mail import preferences_url, render_page
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"])
Token = Annotated[str, Path(min_length=1, max_length=1000)]


@router.get("/{token}", response_class=HTMLResponse, responses=problem_responses(404))
async def unsubscribe_page(ctx: Ctx, token: Token) -> HTMLResponse:
    """Turns the mail the link names off and says what that was."""
    what = await unsubscribe.unsubscribe(ctx, token)
    page = render_page(ctx.settings, "unsubscribed.html.j2", what=what, preferences_url=preferences_url(ctx.settings))
    return HTMLResponse(page)


@router.post("/{token}", response_class=PlainTextResponse, responses=problem_responses(404))
async def one_click_unsubscribe(ctx: Ctx, token: Token) -> PlainTextResponse:
    """RFC 8058 one-click: the mail client posts `List-Unsubscribe=One-Click`."""
    what = await unsubscribe.unsubscribe(ctx, token)
    return PlainTextResponse(f"You will no longer get {what}.\n")
