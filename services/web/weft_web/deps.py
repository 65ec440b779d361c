"""Annotated dependencies for page routes: who is looking, their API client, CSRF."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from weft_web import gateway as gw
from weft_web.context import WebContext
from weft_web.errors import CsrfRefused, FormUnreadable, SignInRequired
from weft_web.security import CSRF_FIELD, CSRF_HEADER, browser_id, csrf_valid, is_unsafe
from weft_web.session_refresh import fresh_session
from weft_web.sessions import Session


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


Web = Annotated[WebContext, Depends(web_context)]


async def load_viewer(request: Request) -> Session | None:
    """Runs before every route (app dependency): request.state.viewer is the session or None."""
    web = web_context(request)
    session = await web.sessions.find(browser_id(request))
    if session is not None:
        session = await fresh_session(web, browser_id(request), session)
    request.state.viewer = session
    return session


async def check_csrf(request: Request) -> None:
    """Runs before every route (app dependency): every unsafe request carries this browser's token."""
    if not is_unsafe(request.method):
        return
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except StarletteHTTPException as exc:  # a field past the parser's 1 MB, too many fields
                raise FormUnreadable() from exc
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not csrf_valid(request, web_context(request).settings.key, token):
        raise CsrfRefused()


def viewer(request: Request) -> Session | None:
    found: Session | None = getattr(request.state, "viewer", None)
    return found


def require_person(request: Request) -> Session:
    session = viewer(request)
    if session is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return session


def api_for(request: Request) -> gw.Api:
    session = viewer(request)
    return web_context(request).gateway.as_person(session.access_token if session else None)


Viewer = Annotated[Session | None, Depends(viewer)]
Person = Annotated[Session, Depends(require_person)]
Api = Annotated[gw.Api, Depends(api_for)]
