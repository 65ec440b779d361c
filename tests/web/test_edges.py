"""Requests a page was not built for still get a readable, honest answer (found by the trial)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.web_people import browser_person, csrf_of, http_sign_in

pytestmark = pytest.mark.timeout(180)


async def test_head_answers_like_get_without_a_body(web_http: httpx.AsyncClient) -> None:
    head = await web_http.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-security-policy"]


async def test_a_missing_asset_is_a_404_that_is_not_cached(web_http: httpx.AsyncClient) -> None:
    missing = await web_http.get("/static/nope.js")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"


async def test_dot_segments_in_an_id_are_the_not_found_page(web_http: httpx.AsyncClient) -> None:
    await http_sign_in(web_http, browser_person("Dot Tester"))
    for path in ("/events/..%252f", "/threads/..%252f", "/resources/..%252f", "/events/%2e%2e"):
        answer = await web_http.get(path)
        assert answer.status_code == 404, path
        assert "Page not found" in answer.text and "segments" not in answer.text, path


async def test_a_fragment_asked_for_when_signed_out_sends_the_whole_page_to_sign_in(
    web_http: httpx.AsyncClient,
) -> None:
    answer = await web_http.get(
        "/notifications/list",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": f"{str(web_http.base_url).rstrip('/')}/notifications?show=unread",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["hx-redirect"] == "/sign-in?next=%2Fnotifications%3Fshow%3Dunread"
    # A boosted navigation (a whole page) is redirected as usual.
    boosted = await web_http.get("/notifications", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert boosted.status_code == 303


async def test_a_form_field_too_large_to_read_says_so(web_http: httpx.AsyncClient) -> None:
    page = await web_http.get("/sign-in")
    answer = await web_http.post(
        "/sign-in/dev",
        data={"csrf_token": csrf_of(page.text)},
        files={"name": (None, "x" * (1024 * 1024 + 10))},
    )
    assert answer.status_code in (400, 413)
    assert "too long to read" in answer.text


async def test_a_query_past_its_limit_names_the_parameter(web_http: httpx.AsyncClient) -> None:
    await http_sign_in(web_http, browser_person("Query Tester"))
    answer = await web_http.get("/communities", params={"q": "x" * 7000})
    assert answer.status_code in (400, 422)
    assert "Traceback" not in answer.text
    if answer.status_code == 400:
        assert "q" in answer.text.split("not valid:")[1][:20]
