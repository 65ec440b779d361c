"""Browser-facing protections: the browser cookie, security headers, CSRF on every form.

Every visitor carries one random `weft_session` cookie. It keys the server-side session
once the person signs in (sessions.py), and every form's CSRF token is an HMAC of it, so a
token is good only in the browser it was made for, signed in or not.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weft_web.sessions import SESSION_COOKIE, new_session_id
from weft_web.signing import sign, verify

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None, http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def browser_id(request: Request) -> str:
    """This browser's cookie value (a new one is set on this response if it had none)."""
    return str(request.scope["state"]["browser_id"])


def set_browser_id(request: Request, value: str) -> None:
    """Sign-in and sign-out give the browser a new id, so an id known before is worth nothing after."""
    request.scope["state"]["browser_id"] = value
    request.scope["state"]["browser_id_changed"] = True


def csrf_token(request: Request, key: bytes) -> str:
    return sign(key, "csrf", browser_id(request))


def csrf_valid(request: Request, key: bytes, token: str | None) -> bool:
    return bool(token) and verify(key, "csrf", browser_id(request), token or "")


def is_unsafe(method: str) -> bool:
    return method not in _SAFE_METHODS


class BrowserCookieMiddleware:
    """Reads the browser id from the cookie (or makes one) and sets it when new or changed."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        existing = _cookie(scope, SESSION_COOKIE)
        state["browser_id"] = existing or new_session_id()
        state["browser_id_changed"] = existing is None

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and state.get("browser_id_changed"):
                header = cookie_header(SESSION_COOKIE, state["browser_id"], secure=self.secure)
                message.setdefault("headers", []).append((b"set-cookie", header.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is a missing cookie
                return None
            morsel = jar.get(name)
            if morsel is not None and 20 <= len(morsel.value) <= 100:
                return morsel.value
    return None


class SecurityHeadersMiddleware:
    """A strict CSP (no inline script or style), no framing, no sniffing, no referrer leaks.

    `no-store` on every page: pages show one person's data and must not outlive sign-out in a
    shared hospital computer's cache. Static assets set their own caching.
    """

    def __init__(self, app: ASGIApp, *, form_targets: list[str]) -> None:
        self.app = app
        forms = " ".join(["'self'", *form_targets])
        self.headers = [
            (
                b"content-security-policy",
                (
                    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    f"connect-src 'self'; form-action {forms}; frame-ancestors 'none'; base-uri 'none'; "
                    "object-src 'none'"
                ).encode(),
            ),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                # Assets cache; pages, and any error (a static 404 included), never do.
                if (not static or message["status"] >= 400) and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGetMiddleware:
    """HEAD answers as GET would, without the body (uptime checks use HEAD; FastAPI's GET routes don't)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)
