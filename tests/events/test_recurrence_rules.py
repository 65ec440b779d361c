"""A recurrence rule is read part by part: what a facilitator could mistype is a 422 on
`recurrence.rrule` in words they understand, never a 500, Python's internals or a
series that starts somewhere else than `starts_at`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.events.conftest import event_body, schedule
from tests.support.api import create_community, new_person, problem, problem_fields
from weft_events.domain.recurrence import RecurrenceError, expand_recurrence

FRIDAY_EVENING = datetime(2027, 1, 1, 18, tzinfo=UTC)  # a Friday, 18:00 in London


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=2", "INTERVAL must be a whole number"),  # dateutil: day out of range (500)
        ("FREQ=MONTHLY;INTERVAL=0;COUNT=2", "INTERVAL must be a whole number"),  # two at the same instant
        ("FREQ=WEEKLY;INTERVAL=-1;COUNT=2", "INTERVAL must be a whole number"),
        ("FREQ=WEEKLY;INTERVAL=1.5;COUNT=2", "INTERVAL must be a whole number"),
        ("FREQ=WEEKLY;COUNT=0", "COUNT must be a whole number"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270601", "not both"),  # RFC 5545 3.3.10: MUST NOT occur together
        ("FREQ=WEEKLY;UNTIL=2027", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=20270230", "not a real date"),
        ("FREQ=WEEKLY;UNTIL=20261201", "no occurrences"),
        ("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=2", "not starts_at"),  # would start on the 31st
        ("FREQ=WEEKLY;BYDAY=TU;COUNT=2", "not starts_at"),  # starts_at is a Friday
        ("FREQ=WEEKLY;BYHOUR=1,2,3;COUNT=2", "time of day comes from starts_at"),
        ("FREQ=WEEKLY;BYMONTHDAY=1;COUNT=2", "BYMONTHDAY goes with FREQ=MONTHLY"),
        ("FREQ=WEEKLY;BYDAY=1FR;COUNT=2", "without a number"),
        ("FREQ=WEEKLY;BYDAY=FRIDAY;COUNT=2", "each day is MO"),
        ("FREQ=WEEKLY;COUNT=2;COUNT=3", "given twice"),
        ("FREQ=WEEKLY;COUNT=2;COLOR=RED", "COLOR is not a recurrence rule part"),
        ("garbage!!", "not a NAME=VALUE part"),  # was "not enough values to unpack (expected 2, got 1)"
        ("COUNT=2", "FREQ=WEEKLY or FREQ=MONTHLY"),
        ("FREQ=DAILY;COUNT=2", "FREQ=WEEKLY or FREQ=MONTHLY"),
        ("FREQ=WEEKLY", "COUNT or UNTIL"),
    ],
)
def test_a_rule_is_refused_part_by_part(rule: str, says: str) -> None:
    with pytest.raises(RecurrenceError, match=says) as refused:
        expand_recurrence(rule, FRIDAY_EVENING, "Europe/London")
    assert "unpack" not in str(refused.value) and "out of range" not in str(refused.value)


@pytest.mark.parametrize(
    ("rule", "days"),
    [
        ("FREQ=WEEKLY;COUNT=3", [1, 8, 15]),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;COUNT=3", [1, 15, 29]),
        ("FREQ=WEEKLY;BYDAY=FR;UNTIL=20270115", [1, 8, 15]),  # a date UNTIL takes in its whole day
        ("FREQ=WEEKLY;UNTIL=20270115T180000Z", [1, 8, 15]),
        ("FREQ=MONTHLY;BYDAY=1FR;COUNT=3", [1, 36, 64]),  # first Fridays: 1 Jan, 5 Feb, 5 Mar
        ("RRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=2", [1, 32]),
        ("freq=weekly;count=2;wkst=su", [1, 8]),
    ],
)
def test_a_good_rule_starts_at_starts_at(rule: str, days: list[int]) -> None:
    starts = expand_recurrence(rule, FRIDAY_EVENING, "Europe/London")
    assert starts[0] == FRIDAY_EVENING
    assert [(s - FRIDAY_EVENING).days + 1 for s in starts] == days


async def test_the_api_answers_a_bad_rule_with_a_422_and_writes_nothing(
    members: httpx.AsyncClient, events: httpx.AsyncClient
) -> None:
    owner = new_person("owner")
    cid = (await create_community(members, owner))["id"]
    await schedule(events, cid, owner)  # the events service knows the community from here on
    start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=18, minute=0, second=0, microsecond=0)
    times = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
    for rule in ("FREQ=WEEKLY;INTERVAL=0;COUNT=2", "FREQ=MONTHLY;INTERVAL=0;COUNT=2", "garbage!!"):
        body = event_body(**times, timezone="UTC", recurrence={"rrule": rule})
        response = await events.post(f"/v1/communities/{cid}/events", json=body, headers=owner.headers)
        assert problem_fields(response, 422) == {"recurrence.rrule"}, (rule, response.text)
        assert "unpack" not in problem(response, 422)["errors"][0]["message"]
    listed = (await events.get(f"/v1/communities/{cid}/events", headers=owner.headers)).json()
    assert len(listed["items"]) == 1  # only the first event: nothing half-written
