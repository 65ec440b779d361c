"""Annotated dependencies for page routes: who is looking, their API client, CSRF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request

from weft_web import gateway as gw
from weft_web.context import WebContext
from weft_web.errors import CsrfRefused, SignInRequired
from weft_web.security import CSRF_FIELD, CSRF_HEADER, browser_id, csrf_valid, is_unsafe
from weft_web.sessions import Session

# A token this close to expiry is refreshed (or the person signed out) before a page uses it.
_REFRESH_MARGIN = timedelta(seconds=60)


def web_context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


Web = Annotated[WebContext, Depends(web_context)]


async def load_viewer(request: Request) -> Session | None:
    """Runs before every route (app dependency): request.state.viewer is the session or None."""
    web = web_context(request)
    session = await web.sessions.find(browser_id(request))
    if session is not None and session.access_expires_at - _REFRESH_MARGIN <= datetime.now(UTC):
        refreshed = await web.refresher.refresh(session) if web.refresher and session.refresh_token else None
        if refreshed is None:
            await web.sessions.end(browser_id(request))
        else:
            await web.sessions.replace_tokens(browser_id(request), refreshed)
        session = refreshed
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
            form = await request.form()
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
