"""Jinja2 templates with the page furniture every page needs (who is signed in, CSRF, brand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.support import NullTranslations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from weft_web import flash, i18n
from weft_web.security import CSRF_FIELD, csrf_token
from weft_web.settings import WebSettings

TEMPLATES = Path(__file__).parent / "templates"


def make_environment(translations: NullTranslations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt variable is an error in tests, not a blank
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["urlpart"] = lambda value: quote(str(value), safe="")
    env.globals["CSRF_FIELD"] = CSRF_FIELD
    return env


class Pages:
    """Renders a template with the furniture; one per process."""

    def __init__(self, settings: WebSettings, translations: NullTranslations) -> None:
        self.settings = settings
        self.env = make_environment(translations)
        self.brand = {
            "name": settings.network_name,
            "tagline": settings.network_tagline,
            "has_logo": settings.logo_path is not None,
        }

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        response = HTMLResponse(status_code=status_code, headers=headers)
        state = request.scope.get("state", {})
        page = {
            "request": request,
            "viewer": state.get("viewer"),
            "csrf_token": csrf_token(request, self.settings.key) if "browser_id" in state else "",
            "brand": self.brand,
            "flash": flash.take(request, response),
            "errors": {},
            "values": {},
            **(context or {}),
        }
        response.body = self.env.get_template(template).render(page).encode()
        response.headers["content-length"] = str(len(response.body))
        return response


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """What a page route returns: `render(request, "pages/x.html", {...})`."""
    pages: Pages = request.app.state.web.pages
    return pages.render(request, template, context, status_code=status_code, headers=headers)


__all__ = ["Pages", "i18n", "render"]
