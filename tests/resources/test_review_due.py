"""Review-by dates: set and removed by facilitators through the gateway; when the date
has come the item is flagged (`review_due`, the facilitators' review-due list) and
`resource.review_due` goes out exactly once per date, across replicas and restarts."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.library import circle, create_note
from tests.support.api import new_person, problem, problem_fields
from tests.support.bus import community_messages
from tests.support.waiting import eventually
from weft_resources.domain.curation import review_due_message_id
from weft_shared.contracts.resources import ResourceReviewDue

Doc = dict[str, Any]
REVIEW_DUE = "org.weft.resource.review_due.v1"


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def review_dues(nats_url: str, community_id: str) -> Counter[tuple[str, datetime]]:
    """(item id, review_by) -> how many review-due messages the stream holds."""
    messages = [m for m in await community_messages(nats_url, community_id) if m.type == REVIEW_DUE]
    payloads = [ResourceReviewDue.model_validate(m.body["data"]) for m in messages]
    return Counter((p.resource.id, p.review_by) for p in payloads)


async def test_review_by_is_checked_and_only_facilitators_set_it(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    item = await create_note(web, c.member, c.id)
    url = f"/v1/resources/{item['id']}/review-by"
    for body in (
        {"review_by": "tomorrow"},
        {"review_by": 1767225600},  # a number is not read as a Unix time
        {"review_by": "2027-01-01T10:00:00"},  # no offset: the instant would be a guess
        {"review_by": None},
        {"review_by": {"$gt": ""}},
        {"review_by": "0001-01-01T00:00:00Z"},
        {},
    ):
        assert problem_fields(await web.put(url, json=body, headers=c.facilitator.headers), 422) == {"review_by"}, body
    extra = await web.put(url, json={"review_by": "2030-01-01T00:00:00Z", "when": 1}, headers=c.owner.headers)
    assert "when" in problem_fields(extra, 422)
    problem(await web.put(url, json={"review_by": "2030-01-01T00:00:00Z"}, headers=c.member.headers), 403)
    problem(await web.delete(url, headers=c.member.headers), 403)
    problem(await web.put(url, json={"review_by": "2030-01-01T00:00:00Z"}, headers=new_person("x").headers), 404)
    stored = await resources_db.resources.find_one({"_id": item["id"]})
    assert stored is not None and stored.get("review_by") is None  # nothing written

    armed = await web.put(url, json={"review_by": "2030-01-01T00:00:00+02:00"}, headers=c.facilitator.headers)
    assert armed.status_code == 200, armed.text
    assert armed.json()["review_by"] == "2029-12-31T22:00:00Z" and armed.json()["review_due"] is False
    assert (await web.delete(url, headers=c.owner.headers)).status_code == 204
    cleared = await web.get(f"/v1/resources/{item['id']}/curation", headers=c.member.headers)
    assert cleared.json()["review_by"] is None


async def test_a_date_that_has_come_flags_the_item_once(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    c = await circle(web, resources_db, members=1, facilitators=1)
    item = await create_note(web, c.member, c.id)
    other = await create_note(web, c.member, c.id)
    rid = item["id"]
    past = millis(datetime.now(UTC) - timedelta(days=1))
    set_past = await web.put(f"/v1/resources/{rid}/review-by", json={"review_by": iso(past)}, headers=c.owner.headers)
    assert set_past.status_code == 200, set_past.text
    later = iso(datetime.now(UTC) + timedelta(days=30))
    await web.put(f"/v1/resources/{other['id']}/review-by", json={"review_by": later}, headers=c.owner.headers)

    async def flagged() -> Doc | None:
        view = (await web.get(f"/v1/resources/{rid}/curation", headers=c.member.headers)).json()
        return view if view["review_due"] else None

    await eventually(flagged, what="the review-due flag")
    assert (await web.get(f"/v1/resources/{rid}", headers=c.member.headers)).json()["review_due"] is True
    listed = await web.get(f"/v1/communities/{c.id}/resources/review-due", headers=c.facilitator.headers)
    assert listed.status_code == 200, listed.text
    assert [i["id"] for i in listed.json()["items"]] == [rid]  # not the one due in 30 days
    assert listed.json()["items"][0]["review_due"] is True
    problem(await web.get(f"/v1/communities/{c.id}/resources/review-due", headers=c.member.headers), 403)

    await asyncio.sleep(2)  # several more polls of the job: nothing more goes out
    assert await review_dues(nats_server.url, c.id) == {(rid, past): 1}

    # Setting the date already announced again changes nothing; a new date re-arms it.
    same = await web.put(f"/v1/resources/{rid}/review-by", json={"review_by": iso(past)}, headers=c.owner.headers)
    assert same.json()["review_due"] is True
    newer = millis(datetime.now(UTC) - timedelta(hours=1))
    rearmed = await web.put(f"/v1/resources/{rid}/review-by", json={"review_by": iso(newer)}, headers=c.owner.headers)
    assert rearmed.json()["review_due"] is False

    async def told_twice() -> Counter[tuple[str, datetime]] | None:
        found = await review_dues(nats_server.url, c.id)
        return found if sum(found.values()) >= 2 else None

    assert await eventually(told_twice, what="the second date's message") == {(rid, past): 1, (rid, newer): 1}
    message = next(m for m in await community_messages(nats_server.url, c.id) if m.type == REVIEW_DUE)
    assert message.body["id"] == review_due_message_id(rid, past)
    assert message.body["data"]["resource"]["title"] == item["title"]

    assert (await web.delete(f"/v1/resources/{rid}/review-by", headers=c.facilitator.headers)).status_code == 204
    emptied = await web.get(f"/v1/communities/{c.id}/resources/review-due", headers=c.owner.headers)
    assert emptied.json()["items"] == []


async def test_replicas_and_restarts_announce_each_date_once(
    start_service: Any, web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc], nats_server: Any
) -> None:
    """Two more resources processes on the session's database (three job loops), one of
    them restarted before and after the dates come: one message per date on the stream."""
    fast = {"WEFT_RESOURCES_REVIEW_POLL_SECONDS": "0.2"}
    replicas = [start_service("resources", env=fast), start_service("resources", env=fast)]
    c = await circle(web, resources_db, members=1, facilitators=1)
    items = [await create_note(web, c.member, c.id) for _ in range(4)]
    due = millis(datetime.now(UTC) + timedelta(seconds=4))
    for item in items:
        armed = await web.put(
            f"/v1/resources/{item['id']}/review-by", json={"review_by": iso(due)}, headers=c.facilitator.headers
        )
        assert armed.status_code == 200, armed.text

    replicas[0].kill()  # a crash before the dates come
    replicas[0].start()

    async def all_told() -> Counter[tuple[str, datetime]] | None:
        found = await review_dues(nats_server.url, c.id)
        return found if len(found) == len(items) else None

    await eventually(all_told, timeout=60, what="every item's review-due message")
    replicas[1].kill()  # and right after
    replicas[1].start()
    await asyncio.sleep(3)  # more polls of every replica
    assert await review_dues(nats_server.url, c.id) == {(i["id"], due): 1 for i in items}
    for item in items:
        stored = await resources_db.resources.find_one({"_id": item["id"]})
        assert stored is not None and stored["review_due"] is True and stored["review_next"] is None
