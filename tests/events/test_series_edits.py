"""A series edit changes the scheduled occurrences and leaves the cancelled ones as
they are (it used to be refused for good once one occurrence was cancelled)."""

from __future__ import annotations

import httpx

from tests.events.conftest import schedule
from tests.support.api import create_community, new_person, problem
from tests.support.bus import wait_for_messages


async def test_a_series_edit_skips_a_cancelled_occurrence(
    members: httpx.AsyncClient,
    events: httpx.AsyncClient,
    nats_server,  # type: ignore[no-untyped-def]
) -> None:
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    series = await schedule(events, cid, owner, recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"})
    a, b, c = series["occurrence_ids"]
    cancelled = await events.post(f"/v1/events/{b}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200, cancelled.text
    before_b = (await events.get(f"/v1/events/{b}", headers=owner.headers)).json()

    renamed = await events.patch(f"/v1/events/{a}?series=true", json={"title": "Series renamed"}, headers=owner.headers)

    assert renamed.status_code == 200, renamed.text
    after = {i: (await events.get(f"/v1/events/{i}", headers=owner.headers)).json() for i in (a, b, c)}
    assert [after[i]["title"] for i in (a, c)] == ["Series renamed"] * 2
    assert after[b] == before_b  # untouched: title, status and all
    updates = await wait_for_messages(nats_server.url, f"weft.event.updated.v1.{cid}", at_least=2)
    assert sorted(m.body["data"]["event"]["id"] for m in updates) == sorted([a, c])
    # The cancelled occurrence itself still cannot be changed, alone or as the start of a series edit.
    for path in (f"/v1/events/{b}", f"/v1/events/{b}?series=true"):
        problem(await events.patch(path, json={"title": "Back again"}, headers=owner.headers), 409)
    assert (await events.get(f"/v1/events/{c}", headers=owner.headers)).json()["title"] == "Series renamed"
