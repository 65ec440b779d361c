"""`/docs` that works offline: Swagger UI's script and stylesheet served by this process.

FastAPI's own `/docs` page loads Swagger UI from a CDN, so without a network it is a blank
page. The assets come from the `swagger-ui-bundle-v2` package (Apache-2.0; Swagger UI 5, which
renders OpenAPI 3.1). ReDoc has no packaged copy, so `/redoc` goes rather than stay blank.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]  # ships no py.typed
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"


def serve_docs_offline(app: FastAPI) -> None:
    """Replace the app's `/docs` and `/redoc` pages with a `/docs` whose assets are local."""
    if not app.openapi_url or not app.docs_url:
        return
    docs_url, openapi_url = app.docs_url, app.openapi_url
    app.router.routes[:] = [r for r in app.router.routes if not _is_page(r, {docs_url, app.redoc_url})]

    async def swagger_ui(request: Request) -> HTMLResponse:
        # Under a path prefix (root_path), every URL the page loads is below it too.
        root = request.scope.get("root_path", "").rstrip("/")
        oauth2_redirect = app.swagger_ui_oauth2_redirect_url
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=root + oauth2_redirect if oauth2_redirect else None,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    app.add_route(docs_url, swagger_ui, include_in_schema=False)
    app.router.routes.append(
        Mount(ASSETS_PATH, app=StaticFiles(directory=Path(str(swagger_ui_bundle.swagger_ui_path))), name="docs-assets")
    )


def _is_page(route: BaseRoute, paths: set[str | None]) -> bool:
    return isinstance(route, Route) and route.path in paths
