"""A registration window that makes no sense is a 422 naming the field, on create and on
update (where the event as it would be after the patch is what counts)."""

from __future__ import annotations

import httpx
import pytest

from tests.events.conftest import at, event_body, schedule
from tests.support.api import create_community, new_person, problem_fields

# The event starts in 7 days and lasts 2 hours.
TIMES = {"starts_at": at(7), "ends_at": at(7, 2)}
WINDOWS = [
    ({"registration_opens_at": at(8)}, "registration_opens_at"),  # opens after the event starts
    ({"registration_opens_at": TIMES["starts_at"]}, "registration_opens_at"),  # opens as it starts
    ({"registration_closes_at": at(-1)}, "registration_closes_at"),  # closed yesterday
    ({"registration_opens_at": at(3), "registration_closes_at": at(2)}, "registration_closes_at"),  # before opens
    ({"registration_closes_at": at(7, 1)}, "registration_closes_at"),  # during the event: bookings stopped
]


@pytest.fixture
async def owned(members: httpx.AsyncClient, events: httpx.AsyncClient) -> tuple[str, dict[str, str], str]:
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    created = await schedule(events, cid, owner, **TIMES, registration_opens_at=at(1), registration_closes_at=at(6))
    return cid, owner.headers, created["id"]


@pytest.mark.parametrize(("window", "field"), WINDOWS)
async def test_a_senseless_window_is_refused_on_create(
    events: httpx.AsyncClient, owned: tuple[str, dict[str, str], str], window: dict[str, str], field: str
) -> None:
    cid, headers, _ = owned
    response = await events.post(f"/v1/communities/{cid}/events", json=event_body(**TIMES, **window), headers=headers)
    assert problem_fields(response, 422) == {field}, response.text


@pytest.mark.parametrize(("window", "field"), WINDOWS)
async def test_a_senseless_window_is_refused_on_update(
    events: httpx.AsyncClient, owned: tuple[str, dict[str, str], str], window: dict[str, str], field: str
) -> None:
    _, headers, eid = owned
    before = (await events.get(f"/v1/events/{eid}", headers=headers)).json()
    response = await events.patch(f"/v1/events/{eid}", json=window, headers=headers)
    assert problem_fields(response, 422) == {field}, response.text
    assert (await events.get(f"/v1/events/{eid}", headers=headers)).json() == before


async def test_moving_the_event_before_its_window_opens_is_refused(
    events: httpx.AsyncClient, owned: tuple[str, dict[str, str], str]
) -> None:
    _, headers, eid = owned  # registration opens in 1 day
    earlier = {"starts_at": at(0.5), "ends_at": at(0.5, 1)}
    response = await events.patch(f"/v1/events/{eid}", json=earlier, headers=headers)
    assert problem_fields(response, 422) == {"registration_opens_at"}, response.text
    moved = await events.patch(f"/v1/events/{eid}", json={**earlier, "registration_opens_at": None}, headers=headers)
    assert problem_fields(moved, 422) == {"registration_closes_at"}, moved.text  # it still closes in 6 days
    fine = {**earlier, "registration_opens_at": None, "registration_closes_at": at(0.25)}
    response = await events.patch(f"/v1/events/{eid}", json=fine, headers=headers)
    assert response.status_code == 200, response.text
    # A change elsewhere is fine while the window is sound.
    assert (await events.patch(f"/v1/events/{eid}", json={"title": "Renamed"}, headers=headers)).status_code == 200
