"""One-time messages after a redirect ("You have joined …"), in a signed cookie.

Post/redirect/get keeps a form from being sent twice on reload; the message has to survive
the redirect, and a cookie needs no database write.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from weft_web.security import cookie_header
from weft_web.signing import open_json, seal_json

FLASH_COOKIE = "weft_flash"
Level = Literal["success", "info", "error"]


def redirect(request: Request, url: str, message: str | None = None, *, level: Level = "success") -> Response:
    """303 to `url` (a path of this app), carrying `message` to the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        web = request.app.state.web
        value = seal_json(web.settings.key, "flash", {"level": level, "text": message})
        response.headers.append("set-cookie", cookie_header(FLASH_COOKIE, value, secure=web.settings.secure_cookies))
    return response


def take(request: Request, response: Response) -> dict[str, Any] | None:
    """The message for this page, if any, and clear it."""
    sealed = request.cookies.get(FLASH_COOKIE)
    if not sealed:
        return None
    web = request.app.state.web
    response.headers.append(
        "set-cookie", cookie_header(FLASH_COOKIE, "", secure=web.settings.secure_cookies, max_age=0)
    )
    message = open_json(web.settings.key, "flash", sealed)
    return message if isinstance(message, dict) and isinstance(message.get("text"), str) else None
