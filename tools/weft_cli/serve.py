"""`weft <service>`: serve one service's FastAPI app with uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from weft_cli.graceful import GracefulServer, ShutdownSettings
from weft_cli.request_deadlines import protocol_with_deadlines
from weft_cli.services import ServiceSpec


class ServeSettings(BaseSettings):
    """How long a client may take to send a request (every service and the gateway)."""

    model_config = SettingsConfigDict(env_prefix="WEFT_HTTP_", extra="ignore")

    # From the connection opening (or the next request's first byte) to the end of its headers.
    header_timeout_seconds: float = Field(10.0, gt=0)
    # Longest pause while a request body arrives.
    body_timeout_seconds: float = Field(30.0, gt=0)


def serve(spec: ServiceSpec, *, host: str | None = None, port: int | None = None) -> None:
    # Only until the app configures its own logging in create_app (it replaces root handlers).
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {spec.name} %(levelname)s %(name)s: %(message)s",
    )
    settings = ServeSettings()
    stopping = ShutdownSettings()
    config = uvicorn.Config(
        spec.factory,
        factory=True,
        host=host or spec.host(),
        port=port if port is not None else spec.port(),
        loop="uvloop",
        # httptools, with deadlines for slow clients (uvicorn has none for headers or bodies).
        http=protocol_with_deadlines(
            header_seconds=settings.header_timeout_seconds, body_seconds=settings.body_timeout_seconds
        ),
        lifespan="on",
        access_log=False,  # the services log requests themselves, with request ids
        log_config=None,  # let uvicorn's loggers propagate to the service's (JSON) root handler
        server_header=False,
        # In-flight requests get this long once new connections are refused (SSE streams end then).
        timeout_graceful_shutdown=int(stopping.grace_seconds + 0.999),
    )
    server = GracefulServer(config, stopping)
    server.run()
    if not server.started:  # could not bind, or the app failed to start: uvicorn.run exits so too
        sys.exit(3)
