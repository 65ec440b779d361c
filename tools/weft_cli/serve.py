"""`weft <service>`: serve one service's FastAPI app with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from weft_cli.services import ServiceSpec

# Long-lived responses (the gateway's server-sent events) would otherwise hold
# shutdown open forever; after this many seconds uvicorn closes them.
GRACEFUL_SHUTDOWN_SECONDS = 5


def serve(spec: ServiceSpec, *, host: str | None = None, port: int | None = None) -> None:
    # Only until the app configures its own logging in create_app (it replaces root handlers).
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s {spec.name} %(levelname)s %(name)s: %(message)s",
    )
    uvicorn.run(
        spec.factory,
        factory=True,
        host=host or spec.host(),
        port=port if port is not None else spec.port(),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,  # the services log requests themselves, with request ids
        log_config=None,  # let uvicorn's loggers propagate to the service's (JSON) root handler
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
