"""What a person sees when something goes wrong: a readable page, never a stack trace.

An API 404 and 403 both become the same "not found" page unless the API itself said 403 to
someone it knows, so a page reveals no more than the API would.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.rendering import render
from weft_web.security import browser_id, set_browser_id
from weft_web.sessions import new_session_id

log = logging.getLogger("weft.web")


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class CsrfRefused(Exception):
    pass


class FormUnreadable(Exception):
    """A form too large to read (a field past 1 MB, or more than 1,000 fields)."""


def safe_next(value: str | None) -> str:
    """Only a path of this app: `next=https://evil.example` or `//evil.example` go home instead."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value


def sign_in_redirect(next_path: str, request: Request | None = None) -> Response:
    url = f"/sign-in?next={quote(safe_next(next_path), safe='')}"
    if request is not None and request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        # A fragment (a live panel, a search-as-you-type list) must not swap a sign-in page
        # into itself: the whole page goes to sign-in, and comes back to the page it was on.
        current = urlsplit(request.headers.get("hx-current-url", ""))
        here = current.path + (f"?{current.query}" if current.query else "") if current.path else next_path
        return Response(status_code=204, headers={"HX-Redirect": f"/sign-in?next={quote(safe_next(here), safe='')}"})
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request, "pages/error.html", {"status": status, "title": title, "message": message}, status_code=status
    )


def not_found(request: Request) -> Response:
    return error_page(request, 404, _("Page not found"), _("There is nothing here, or it is not shared with you."))


def install_error_pages(app: FastAPI) -> None:
    async def on_sign_in_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return sign_in_redirect(exc.next_path, request)

    async def on_csrf(request: Request, exc: Exception) -> Response:
        return error_page(
            request,
            403,
            _("This form has expired"),
            _("Go back, reload the page and send the form again."),
        )

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 401:
            # The API no longer takes this session's token (expired for good, or the person was
            # erased): end the session here too, so it holds nothing of them any more.
            if "browser_id" in request.scope.get("state", {}):
                await request.app.state.web.sessions.end(browser_id(request))
                set_browser_id(request, new_session_id())
            return sign_in_redirect(request.url.path, request)
        if exc.status == 404:
            return not_found(request)
        if exc.status == 403:
            return error_page(request, 403, _("Not allowed"), _("You do not have permission to do that."))
        if exc.status == 429:
            return error_page(request, 429, _("Too many requests"), _("Please wait a moment and try again."))
        if exc.status >= 500:
            log.warning("gateway answered %s on %s %s", exc.status, request.method, _route(request))
            return error_page(
                request, 503, _("Weft is having trouble"), _("This is not your fault. Please try again in a minute.")
            )
        return error_page(request, exc.status, _("That did not work"), exc.detail)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return not_found(request)
        if exc.status_code == 400:  # FastAPI could not parse a form (a field past 1 MB, too many fields)
            return error_page(
                request,
                400,
                _("That was too long"),
                _("What you sent was too long to read: a text can be at most 1 MB. Go back and shorten it."),
            )
        if exc.status_code == 405:
            return error_page(request, 405, _("Not allowed"), _("This page does not take that kind of request."))
        return error_page(request, exc.status_code, _("That did not work"), _("The request could not be handled."))

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        names = sorted({str(error["loc"][-1]) for error in exc.errors() if error.get("loc")})
        if not names:
            return error_page(request, 400, _("That did not work"), _("Part of the request was missing or not valid."))
        return error_page(
            request,
            400,
            _("That did not work"),
            _("This was missing, too long or not valid: %(names)s. Go back and change it.", names=", ".join(names)),
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, _route(request))
        return error_page(
            request, 500, _("Something went wrong"), _("This is not your fault. The error has been logged.")
        )

    app.add_exception_handler(SignInRequired, on_sign_in_required)

    async def on_unreadable(request: Request, exc: Exception) -> Response:
        return error_page(
            request,
            413,
            _("That was too long"),
            _("What you sent was too long to read: a text can be at most 1 MB. Go back and shorten it."),
        )

    app.add_exception_handler(CsrfRefused, on_csrf)
    app.add_exception_handler(FormUnreadable, on_unreadable)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_unexpected)


def _route(request: Request) -> str:
    # The route template, not the path: paths carry secrets (invitation codes, unsubscribe tokens).
    return str(getattr(request.scope.get("route"), "path", "(no route)"))
