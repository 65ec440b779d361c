"""`/sign-in`, its OIDC round trip, the dev sign-in form, and `/sign-out`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from weft_shared.auth.tokens import issue_dev_token
from weft_web.auth.dev_people import DevPeople, dev_subject
from weft_web.auth.oidc import OidcSignIn, SignInFailed
from weft_web.deps import Viewer, Web
from weft_web.errors import error_page, safe_next
from weft_web.flash import redirect
from weft_web.forms import FormErrors, clean_email, clean_line
from weft_web.i18n import _
from weft_web.rendering import render
from weft_web.security import browser_id, set_browser_id
from weft_web.sessions import Session, SignInAttempts, new_session_id

router = APIRouter()
log = logging.getLogger("weft.web.sign_in")
DEV_TOKEN_HOURS = 12


def _oidc(request: Request) -> OidcSignIn | None:
    found: OidcSignIn | None = request.app.state.oidc
    return found


def _attempts(request: Request) -> SignInAttempts:
    attempts: SignInAttempts = request.app.state.sign_in_attempts
    return attempts


def _dev_people(request: Request) -> DevPeople:
    people: DevPeople = request.app.state.dev_people
    return people


async def _signed_in(request: Request, web: Web, session: Session, next_path: str) -> Response:
    """A fresh browser id for the new session: an id someone planted before sign-in is now worthless."""
    await web.sessions.end(browser_id(request))
    session_id = await web.sessions.start(session)
    set_browser_id(request, session_id)
    return redirect(request, safe_next(next_path), _("Signed in as %(name)s.", name=session.display_name))


@router.get("/sign-in", name="sign_in")
async def sign_in_page(request: Request, web: Web, viewer: Viewer, next: str = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    people = await _dev_people(request).recent() if web.settings.dev_sign_in else []
    return render(
        request,
        "pages/sign_in.html",
        {
            "next": safe_next(next),
            "oidc": _oidc(request) is not None,
            "dev": web.settings.dev_sign_in,
            "people": people,
        },
    )


@router.get("/sign-in/oidc", name="sign_in_oidc")
async def sign_in_oidc(request: Request, next: str = "/") -> Response:
    oidc = _oidc(request)
    if oidc is None:
        return error_page(request, 404, _("Page not found"), _("Single sign-on is not set up here."))
    try:
        auth = await oidc.authorization_request(str(request.base_url))
    except Exception as exc:  # the provider is down or misconfigured: say so, don't 500
        log.warning("OIDC discovery failed: %s", type(exc).__name__)
        return error_page(
            request, 503, _("Sign-in is unavailable"), _("The sign-in service did not answer. Try again in a minute.")
        )
    await _attempts(request).begin(
        auth.state, browser=browser_id(request), nonce=auth.nonce, verifier=auth.verifier, next_path=safe_next(next)
    )
    return RedirectResponse(auth.url, status_code=303)


@router.get("/sign-in/callback", name="sign_in_callback")
async def sign_in_callback(
    request: Request,
    web: Web,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    iss: str | None = None,
) -> Response:
    oidc = _oidc(request)
    if oidc is None:
        return error_page(request, 404, _("Page not found"), _("Single sign-on is not set up here."))
    attempt = await _attempts(request).take(state, browser=browser_id(request)) if state else None
    if error or not code or attempt is None:
        # A refused consent, a replayed or forged callback, or another browser's: start again.
        return error_page(request, 400, _("Sign-in did not complete"), _("Please start signing in again."))
    try:
        await oidc.check_response_issuer(iss)
        session = await oidc.exchange(
            code=code, verifier=attempt["verifier"], nonce=attempt["nonce"], base_url=str(request.base_url)
        )
    except SignInFailed as exc:
        log.warning("OIDC sign-in failed: %s", exc)
        return error_page(request, 400, _("Sign-in did not complete"), _("Please start signing in again."))
    return await _signed_in(request, web, session, attempt["next"])


@router.post("/sign-in/dev", name="sign_in_dev")
async def sign_in_dev(
    request: Request,
    web: Web,
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    pick: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    if not web.settings.dev_sign_in:
        return error_page(request, 404, _("Page not found"), _("There is nothing here, or it is not shared with you."))
    people = _dev_people(request)
    if pick:
        person = await people.get(pick)
        if person is None:
            return await _dev_form_again(request, web, next, {"pick": _("Choose someone from the list.")}, {})
        name, email = person["name"], person["email"]
    else:
        errors = FormErrors()
        name = errors.check("name", clean_line, name, label=_("Your name"), max_length=100)
        email = errors.check("email", clean_email, email)
        if errors:
            return await _dev_form_again(request, web, next, errors.messages, {"name": name, "email": email})
    sub = dev_subject(email)
    await people.remember(sub, name=name, email=email)
    token = issue_dev_token(web.settings.platform, sub, email=email, name=name, ttl_seconds=DEV_TOKEN_HOURS * 3600)
    session = Session(
        sub=sub,
        name=name,
        email=email,
        access_token=token,
        access_expires_at=datetime.now(UTC) + timedelta(hours=DEV_TOKEN_HOURS),
        refresh_token=None,
        id_token=None,
        provider="dev",
    )
    return await _signed_in(request, web, session, next)


async def _dev_form_again(
    request: Request, web: Web, next_path: str, errors: dict[str, str], values: dict[str, str]
) -> Response:
    return render(
        request,
        "pages/sign_in.html",
        {
            "next": safe_next(next_path),
            "oidc": _oidc(request) is not None,
            "dev": True,
            "people": await _dev_people(request).recent(),
            "errors": errors,
            "values": values,
        },
        status_code=422,
    )


@router.post("/sign-out", name="sign_out")
async def sign_out(request: Request, web: Web, viewer: Viewer) -> Response:
    await web.sessions.end(browser_id(request))
    set_browser_id(request, new_session_id())
    oidc = _oidc(request)
    if viewer is not None and oidc is not None and viewer.provider == "oidc":
        try:
            url = await oidc.end_session_url(viewer, base_url=str(request.base_url))
        except Exception:  # the provider is down: we have signed out here anyway
            url = None
        if url:
            return _leave_for(request, url)
    return redirect(request, "/", _("You have signed out."), level="info")


def _leave_for(request: Request, url: str) -> Response:
    """A redirect to another site. A boosted form's XHR would follow a 303 there and be stopped by
    CORS, so htmx is told to move the whole page instead (it sets window.location)."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
