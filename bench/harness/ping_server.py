"""The baseline: a bare FastAPI JSON endpoint, served as the Weft services are served.

Same uvicorn settings as `weft <service>` (tools/weft_cli/serve.py): uvloop, httptools,
access log off, one worker, no server header. Run as its own process by harness/stack.py:

    python bench/harness/ping_server.py --port 8765
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI(title="bench baseline")

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        server_header=False,
        workers=1,
    )


if __name__ == "__main__":
    main()
