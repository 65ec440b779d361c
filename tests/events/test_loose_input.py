"""Loose input the events service used to take or answer badly, through its real routes:
numbers that are strings or booleans, bodies that are not JSON, a query parameter sent
twice, and a window whose end is before its start."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.events.conftest import event_body
from tests.support.api import Person, problem, problem_fields


@pytest.mark.parametrize("seats", ["5", True, 5.5, "five"])
async def test_seats_are_json_integers(
    events: httpx.AsyncClient, community: tuple[str, Person, str], seats: Any
) -> None:
    cid, owner, eid = community
    body = event_body(
        format="online", venue=None, joining_link="https://meet.example.org/r", capacity={"online": seats}
    )
    created = await events.post(f"/v1/communities/{cid}/events", json=body, headers=owner.headers)
    assert problem_fields(created, 422) == {"capacity.online"}, created.text
    patched = await events.patch(f"/v1/events/{eid}", json={"capacity": {"in_person": seats}}, headers=owner.headers)
    assert problem_fields(patched, 422) == {"capacity.in_person"}, patched.text


@pytest.mark.parametrize(
    ("content_type", "content"),
    [("text/plain", b"{}"), ("application/x-www-form-urlencoded", b"title=x"), ("application/xml", b"<event/>")],
)
async def test_a_body_that_is_not_json_is_a_415(
    events: httpx.AsyncClient, community: tuple[str, Person, str], content_type: str, content: bytes
) -> None:
    cid, owner, _ = community
    headers = {**owner.headers, "content-type": content_type}
    response = await events.post(f"/v1/communities/{cid}/events", content=content, headers=headers)
    assert problem_fields(response, 415) == {"body"}


async def test_malformed_or_undecodable_json_names_the_body(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    cid, owner, _ = community
    headers = {**owner.headers, "content-type": "application/json"}
    malformed = await events.post(f"/v1/communities/{cid}/events", content=b'{"title": "x",}', headers=headers)
    assert problem_fields(malformed, 422) == {"body"}
    assert problem(malformed, 422)["detail"].startswith("malformed JSON at position 14")
    not_utf8 = await events.post(f"/v1/communities/{cid}/events", content=b'{"title": "\xc3\x28"}', headers=headers)
    assert problem_fields(not_utf8, 400) == {"body"}


@pytest.mark.parametrize("query", ["limit=1&limit=2", "from=2027-01-01T00:00:00Z&from=2027-02-01T00:00:00Z"])
async def test_a_single_valued_query_parameter_sent_twice_is_refused(
    events: httpx.AsyncClient, community: tuple[str, Person, str], query: str
) -> None:
    cid, owner, _ = community
    field = query.split("=")[0]
    for path in (f"/v1/communities/{cid}/events", "/v1/me/attendance"):
        response = await events.get(f"{path}?{query}", headers=owner.headers)
        assert problem_fields(response, 422) == {field}, (path, response.text)


async def test_every_window_route_refuses_an_end_before_the_start(
    events: httpx.AsyncClient, community: tuple[str, Person, str]
) -> None:
    """The events list answered 200 with nothing where the others said 400."""
    cid, owner, _ = community
    backwards = {"from": "2027-03-01T00:00:00Z", "to": "2027-02-01T00:00:00Z"}
    paths = [
        f"/v1/communities/{cid}/events",
        f"/v1/communities/{cid}/calendar.ics",
        "/v1/me/attendance",
        "/v1/me/attendance.csv",
    ]
    answers = set()
    for path in paths:
        response = await events.get(path, params=backwards, headers=owner.headers)
        answers.add((response.status_code, problem(response, 400)["detail"], frozenset(problem_fields(response, 400))))
    assert answers == {(400, "'to' must be after 'from'", frozenset({"to"}))}
