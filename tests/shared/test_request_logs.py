"""A 500 can be found in the logs by the request id its answer gives: in both log formats,
with its traceback written once (not again by uvicorn)."""

from __future__ import annotations

import logging

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from tests.gateway.servers import serve
from tests.support.log_capture import capture_root_lines
from weft_shared.http import create_service_app
from weft_shared.observability import JsonFormatter, RequestIdMiddleware, TextFormatter
from weft_shared.settings import PlatformSettings


def _failing_service() -> object:
    app = create_service_app(title="failing", platform=PlatformSettings(env="dev"), lifespan=None)

    @app.get("/v1/things/{thing_id}")
    async def broken(thing_id: str) -> dict[str, str]:
        logging.getLogger("weft.test").info("looking up a thing")
        raise RuntimeError("a bug")

    return app


@pytest.mark.parametrize("formatter", [JsonFormatter("svc"), TextFormatter("svc")], ids=["json", "text"])
async def test_a_500_is_logged_once_with_the_request_id_it_answers(formatter: logging.Formatter) -> None:
    async with serve(_failing_service()) as url, httpx.AsyncClient(base_url=url) as client:
        with capture_root_lines(formatter) as lines:
            answer = await client.get("/v1/things/secret-token-1")
            again = await client.get("/v1/things/secret-token-2", headers={"X-Request-ID": "given-id-7"})
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    request_id = answer.headers["x-request-id"]
    assert "request id" in answer.json()["detail"]
    assert again.headers["x-request-id"] == "given-id-7"

    assert sum("Traceback" in line for line in lines) == 2, lines  # one per failed request
    assert not any("Exception in ASGI application" in line for line in lines), lines
    for rid in (request_id, "given-id-7"):
        mine = [line for line in lines if rid in line]
        # The app's own line and the error line (with its traceback), both naming the request.
        assert any("looking up a thing" in line for line in mine), lines
        assert any("unhandled error on GET /v1/things/{thing_id}" in line and "RuntimeError" in line for line in mine)
    server_lines = [line for line in lines if "httpx" not in line]  # the test client logs its own URLs
    assert not any("secret-token" in line for line in server_lines)
    if isinstance(formatter, JsonFormatter):
        errors = [orjson.loads(line) for line in lines if "Traceback" in line]
        assert [e["request_id"] for e in errors] == [request_id, "given-id-7"]


async def test_an_error_before_any_answer_is_answered_500_with_the_request_id() -> None:
    """An error no handler answers (raised in a middleware outside the routes) is logged here once."""

    async def raising_app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raise RuntimeError("broken before answering")

    async with serve(RequestIdMiddleware(raising_app)) as url, httpx.AsyncClient(base_url=url) as client:
        with capture_root_lines(TextFormatter("svc")) as lines:
            answer = await client.get("/anything", headers={"X-Request-ID": "early-1"})
    assert answer.status_code == 500 and answer.headers["x-request-id"] == "early-1"
    assert answer.headers["connection"] == "close"
    assert sum("Traceback" in line for line in lines) == 1, lines
    assert "[early-1]" in next(line for line in lines if "Traceback" in line)


async def test_a_database_that_cannot_be_reached_is_a_503_to_retry_not_a_500() -> None:
    """While MongoDB is away (a restart, a failover) a client is told to retry, as after any
    outage; it is a warning line, not a traceback."""
    from pymongo import AsyncMongoClient

    app = create_service_app(title="db away", platform=PlatformSettings(env="dev"), lifespan=None)
    # A real client towards a port where nothing listens: selection fails as in an outage.
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200&connectTimeoutMS=200"
    )

    @app.get("/v1/things/{thing_id}")
    async def lookup(thing_id: str) -> dict[str, str]:
        await client["db"]["things"].find_one({"_id": thing_id})
        return {"id": thing_id}

    try:
        async with serve(app) as url, httpx.AsyncClient(base_url=url) as http:
            with capture_root_lines(JsonFormatter("svc")) as lines:
                answer = await http.get("/v1/things/t1")
    finally:
        await client.close()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert "retry" in answer.json()["detail"]
    assert any("database unreachable on GET /v1/things/{thing_id}" in line for line in lines), lines
    assert not any("Traceback" in line for line in lines), lines
