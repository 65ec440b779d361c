"""Bad input through the gateway, as a client sends it: a 4xx problem naming the
field (never a 500), and calendars that keep working whatever a community is called."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from icalendar import Calendar

from tests.support.api import create_community, new_person, problem_fields
from tests.support.waiting import eventually
from weft_cli.testing import ServiceProcess


@pytest.fixture
async def web(gateway_service: ServiceProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_service.url, timeout=15) as http:
        yield http


def unescape_text(value: str) -> str:
    """An RFC 5545 TEXT value unescaped (icalendar leaves X- and NAME properties raw)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


async def test_extreme_and_numeric_times_are_422_naming_the_field(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    cid = (await create_community(web, ana))["id"]
    # `+` must be sent as %2B in a query: httpx encodes it.
    for path in (f"/v1/communities/{cid}/events", "/v1/me/attendance", "/v1/me/attendance.csv"):
        for params, field in (
            ({"from": "0001-01-01T00:00:00+14:00"}, "from"),
            ({"to": "9999-12-31T23:59:59-14:00"}, "to"),
            ({"from": "1800000000"}, "from"),
        ):
            response = await web.get(path, params=params, headers=ana.headers)
            assert problem_fields(response, 422) == {field}, (path, params, response.text)


async def test_a_calendar_keeps_working_for_a_community_renamed_in_every_allowed_way(web: httpx.AsyncClient) -> None:
    ana = new_person("ana")
    cid = (await create_community(web, ana, name="Falls prevention"))["id"]
    refused = await web.patch(f"/v1/communities/{cid}", json={"name": "Falls\nprevention"}, headers=ana.headers)
    assert problem_fields(refused, 422) == {"name"}
    renamed = await web.patch(
        f"/v1/communities/{cid}", json={"name": "Falls; prevention, \\ Ünïcödé"}, headers=ana.headers
    )
    assert renamed.status_code == 200, renamed.text

    async def calendar_named() -> str | None:
        response = await web.get(f"/v1/communities/{cid}/calendar.ics", headers=ana.headers)
        if response.status_code != 200:
            return None
        # icalendar reads X- properties as unknown (raw); RFC 5545 3.8.8.2 makes them TEXT: unescape.
        name = str(unescape_text(str(Calendar.from_ical(response.content)["X-WR-CALNAME"])))
        return name if name != cid and name != "Falls prevention" else None

    assert await eventually(calendar_named, what="the events service to learn the new name") == (
        "Falls; prevention, \\ Ünïcödé"
    )
