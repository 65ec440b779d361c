"""What every service answers to a body that is not JSON, malformed JSON, bytes that are
not UTF-8 and a single-valued query parameter sent twice: a problem naming `body` or
the parameter, with the status that says what is wrong (415, 422, 400)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, Query

from tests.support.api import problem
from weft_shared.http import create_service_app
from weft_shared.service.models import Flag, Strict, WholeNumber
from weft_shared.settings import PlatformSettings


class Body(Strict):
    seats: WholeNumber | None = None
    open: Flag | None = None


def paging(cursor: Annotated[str | None, Query()] = None) -> str | None:
    return cursor


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_service_app(title="shapes", platform=PlatformSettings(env="dev"), lifespan=None)
    router = APIRouter()

    @router.post("/things")
    async def create(body: Body) -> dict[str, Any]:
        return body.model_dump()

    @router.get("/things")
    async def listing(
        limit: Annotated[int, Query(ge=1)] = 10,
        tag: Annotated[list[str] | None, Query()] = None,
        cursor: str | None = Depends(paging),
    ) -> dict[str, Any]:
        return {"limit": limit, "tag": tag, "cursor": cursor}

    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shapes") as http:
        yield http


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"seats": 1}'),
        ("application/x-www-form-urlencoded", b"seats=1"),
        ("application/xml", b"<seats>1</seats>"),
        (None, b'{"seats": 1}'),
    ],
)
async def test_a_body_that_is_not_json_is_a_415(
    client: httpx.AsyncClient, content_type: str | None, content: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = problem(await client.post("/things", content=content, headers=headers), 415)
    assert body["errors"][0]["field"] == "body"
    assert "application/json" in body["detail"]


async def test_malformed_json_names_the_body_and_the_position(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", content=b'{"seats": 1,,}', headers={"content-type": "application/json"})
    body = problem(response, 422)
    assert body["errors"] == [{"field": "body", "message": body["detail"]}]
    assert body["detail"].startswith("malformed JSON at position 12"), body  # was "field": "12"


async def test_bytes_that_are_not_utf8_are_a_400_naming_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/things", content=b'{"seats": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    body = problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["body"]
    assert "UTF-8" in body["detail"]


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"seats": "5"}, "seats"),  # a string of digits is not a number
        ({"seats": True}, "seats"),  # nor is a boolean (lax mode stored 1)
        ({"seats": 5.0}, "seats"),
        ({"open": 1}, "open"),  # nor is a number a boolean
        ({"open": "yes"}, "open"),
    ],
)
async def test_numbers_and_booleans_are_json_s_own(client: httpx.AsyncClient, sent: dict[str, Any], field: str) -> None:
    body = problem(await client.post("/things", json=sent), 422)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_good_bodies_still_pass(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"seats": 5, "open": False})
    assert response.status_code == 200 and response.json() == {"seats": 5, "open": False}
    charset = await client.post(
        "/things", content=b'{"seats": 2}', headers={"content-type": "application/json; charset=utf-8"}
    )
    assert charset.json() == {"seats": 2, "open": None}


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=1&limit=2", "limit"), ("cursor=a&cursor=b", "cursor")],  # cursor: a sub-dependency's parameter
)
async def test_a_single_valued_query_parameter_sent_twice_is_refused(
    client: httpx.AsyncClient, query: str, field: str
) -> None:
    body = problem(await client.get(f"/things?{query}"), 422)
    assert [e["field"] for e in body["errors"]] == [field]


async def test_a_list_parameter_may_repeat(client: httpx.AsyncClient) -> None:
    response = await client.get("/things?tag=a&tag=b&limit=3&other=1&other=2")
    assert response.status_code == 200 and response.json() == {"limit": 3, "tag": ["a", "b"], "cursor": None}
