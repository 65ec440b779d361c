"""The FastAPI app skeleton every Weft service shares: errors, request ids, health."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from faststream.nats import NatsBroker

from weft_shared.auth.tokens import TokenVerifier
from weft_shared.errors import install_problem_handlers
from weft_shared.observability import RequestIdMiddleware, unexpected_error_response
from weft_shared.service.openapi import install_error_responses
from weft_shared.service.query_params import refuse_repeated_query_parameters
from weft_shared.service.shutdown import shutdown
from weft_shared.settings import PlatformSettings
from weft_shared.storage.client import MongoLifecycle

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]


def backing_service_checks(mongo: MongoLifecycle, broker: NatsBroker) -> dict[str, ReadinessCheck]:
    """Readiness of a service that owns a database and talks on the bus."""

    async def check_mongo(_: FastAPI) -> None:
        await mongo.ping()

    async def check_nats(_: FastAPI) -> None:
        if not broker.config.connection_state.connection.is_connected:
            raise ConnectionError("NATS disconnected")

    return {"mongodb": check_mongo, "nats": check_nats}


log = logging.getLogger("weft.http")


def create_service_app(
    *,
    title: str,
    platform: PlatformSettings,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[Any]] | None,
    readiness_checks: dict[str, ReadinessCheck] | None = None,
    version: str = "0.1.0",
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        dependencies=[Depends(refuse_repeated_query_parameters)],
        # Starlette's slash redirect names the service's own address: behind the gateway it sent
        # clients straight to the service, past the gateway's checks. A path is exact or a 404.
        redirect_slashes=False,
    )
    app.state.token_verifier = TokenVerifier(platform)
    install_problem_handlers(app)
    install_error_responses(app)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # The route template, not the path: paths can carry secrets (feed and invitation tokens).
        route = getattr(request.scope.get("route"), "path", "(no route)")
        return unexpected_error_response(request.method, route, exc)

    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(RequestIdMiddleware)
    checks = readiness_checks or {}

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: every dependency this process needs answers, and it is not shutting down."""
        if shutdown.draining:
            return JSONResponse({"status": "shutting down", "checks": {}}, status_code=503)
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await check(app)
                results[name] = "ok"
            except Exception as exc:  # any failure means not ready
                results[name] = f"failing: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results}, status_code=200 if ready else 503
        )

    return app
