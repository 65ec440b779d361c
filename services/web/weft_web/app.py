"""The web app process: pages, static assets, sessions; a client of the gateway only.

Served by `weft web` (uvicorn with `factory=True` on `create_app`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from weft_shared.metrics import ProcessMetrics, install_metrics
from weft_shared.observability import RequestIdMiddleware, configure_logging
from weft_shared.service.shutdown import shutdown
from weft_shared.storage.client import MongoLifecycle
from weft_web import i18n
from weft_web.auth import ROUTERS as AUTH_ROUTERS
from weft_web.auth.dev_people import DevPeople
from weft_web.auth.oidc import OidcSignIn
from weft_web.context import WebContext
from weft_web.deps import check_csrf, load_viewer
from weft_web.errors import install_error_pages
from weft_web.gateway import Gateway
from weft_web.pages import ROUTERS as PAGE_ROUTERS
from weft_web.rendering import Pages
from weft_web.security import BrowserCookieMiddleware, HeadAsGetMiddleware, SecurityHeadersMiddleware
from weft_web.sessions import SessionStore, SignInAttempts
from weft_web.settings import WebSettings

STATIC = Path(__file__).parent / "static"
VERSION = "0.1.0"


class CachedStatic(StaticFiles):
    """Assets change only with a release; an hour's cache keeps pages fast on slow wards' networks."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("cache-control", "public, max-age=3600")
        return response


def create_app(settings: WebSettings | None = None) -> FastAPI:
    settings = settings or WebSettings()
    platform = settings.platform
    configure_logging("web", level=platform.log_level, json_logs=platform.log_json)
    # httpx logs every URL it requests at INFO, and paths carry secrets (invitation and
    # unsubscribe tokens): only its warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    translations = i18n.load(settings.locale)
    i18n.use(translations)
    mongo = MongoLifecycle(platform.mongodb_url, settings.database, app_name="weft-web")
    gateway = Gateway(settings.gateway_url, timeout_seconds=settings.gateway_timeout_seconds)
    sessions = SessionStore(mongo.db, lifetime=timedelta(hours=settings.session_hours))
    oidc = OidcSignIn(settings) if settings.oidc_issuer else None
    web = WebContext(settings, Pages(settings, translations), gateway, sessions, mongo.db, refresher=oidc)
    attempts = SignInAttempts(mongo.db)
    dev_people = DevPeople(mongo.db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await sessions.create_indexes()
        await attempts.create_indexes()
        if settings.dev_sign_in:
            await dev_people.create_indexes()
        try:
            yield
        finally:
            if oidc is not None:
                await oidc.close()
            await gateway.close()
            await mongo.close()

    app = FastAPI(
        title="Weft web",
        version=VERSION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        dependencies=[Depends(load_viewer), Depends(check_csrf)],
    )
    app.state.web = web
    app.state.oidc = oidc
    app.state.sign_in_attempts = attempts
    app.state.dev_people = dev_people
    install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        if shutdown.draining:  # SIGTERM came: let the load balancer move on first
            return JSONResponse({"status": "shutting down", "checks": {}}, status_code=503)
        checks: dict[str, str] = {}
        for name, check in (("mongodb", mongo.ping), ("gateway", gateway.healthy)):
            try:
                await check()
                checks[name] = "ok"
            except Exception as exc:  # any failure means not ready
                checks[name] = f"failing: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @app.get("/brand/colours.css", include_in_schema=False)
    async def brand_colours() -> Response:
        css = f":root {{ --brand: {settings.colour_primary}; --accent: {settings.colour_accent}; }}\n"
        return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=300"})

    @app.get("/brand/logo", include_in_schema=False)
    async def brand_logo(request: Request) -> Response:
        path = settings.logo_path or STATIC / "logo.svg"
        return FileResponse(path, headers={"cache-control": "public, max-age=300"})

    app.mount("/static", CachedStatic(directory=STATIC), name="static")
    for router in [*AUTH_ROUTERS, *PAGE_ROUTERS]:
        app.include_router(router)

    form_targets = [settings.oidc_issuer] if settings.oidc_issuer else []
    app.add_middleware(SecurityHeadersMiddleware, form_targets=form_targets)
    app.add_middleware(BrowserCookieMiddleware, secure=settings.secure_cookies)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(HeadAsGetMiddleware)
    install_metrics(app, ProcessMetrics("web"), token=settings.platform.metrics_token)
    return app
