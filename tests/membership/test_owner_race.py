"""A community always has at least one ACTIVE owner, under concurrent requests
spread over two membership processes, and every service agrees on who it is.

Issue 7 item 4: owner A promotes C to owner while C leaves; then A leaves. When
the role change and the end of the membership could interleave, the community
ended with C, whose membership was `left`, as its only owner.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api import Person, create_community, join, new_person
from tests.support.bus import BusMessage, community_messages
from weft_cli.testing import ServiceProcess

ROUNDS = 30

Replica = httpx.AsyncClient


def member_states(messages: list[BusMessage]) -> dict[str, tuple[bool, str]]:
    """Who is an active member in what role, as a consumer concludes it from the
    stream: the last member message about a person wins (stream order), exactly
    as the events service keeps its read model."""
    state: dict[str, tuple[bool, str]] = {}
    for m in messages:
        data = m.body["data"]
        if m.type == "org.weft.member.joined.v1":
            state[data["user_id"]] = (True, data["role"])
        elif m.type == "org.weft.member.role_changed.v1":
            state[data["user_id"]] = (True, data["new_role"])
        elif m.type in ("org.weft.member.left.v1", "org.weft.member.removed.v1"):
            state[data["user_id"]] = (False, data["role"])
    return state


def owners_from_stream(messages: list[BusMessage]) -> set[str]:
    return {user for user, (active, role) in member_states(messages).items() if active and role == "owner"}


async def listed_owners(http: Replica, community_id: str, viewer: Person) -> set[str]:
    response = await http.get(f"/v1/communities/{community_id}/members?role=owner", headers=viewer.headers)
    assert response.status_code == 200, response.text
    return {m["user_id"] for m in response.json()["items"]}


async def standing(http: Replica, community_id: str, person: Person) -> tuple[str | None, str | None]:
    view = (await http.get(f"/v1/communities/{community_id}", headers=person.headers)).json()
    return view["my_status"], view["my_role"]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> bool:
    """The events service learns membership facts from the bus, a moment later."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def meeting() -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    return {
        "title": "Owners' huddle",
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "venue": "Room 4",
    }


@pytest.mark.timeout(600)
async def test_promote_while_leaving_never_leaves_an_inactive_only_owner(
    client: httpx.AsyncClient,
    start_service,  # type: ignore[no-untyped-def]
    events_service: ServiceProcess,
    nats_url: str,
) -> None:
    second: ServiceProcess = start_service("membership")
    outsider = new_person("outsider")
    async with (
        httpx.AsyncClient(base_url=second.url, timeout=30) as other,
        httpx.AsyncClient(base_url=events_service.url, timeout=30) as events,
    ):
        outcomes: list[tuple[int, int, int]] = []
        failures: list[str] = []
        for round_no in range(ROUNDS):
            a, c = new_person("a"), new_person("c")
            cid = (await create_community(client, a))["id"]
            assert (await join(other, cid, c)).status_code == 201
            promote, leave = await asyncio.gather(
                client.patch(f"/v1/communities/{cid}/members/{c.user_id}", json={"role": "owner"}, headers=a.headers),
                other.delete(f"/v1/communities/{cid}/members/{c.user_id}", headers=c.headers),
            )
            assert promote.status_code in (200, 404), promote.text
            assert leave.status_code == 204, leave.text
            a_leaves = await client.delete(f"/v1/communities/{cid}/members/{a.user_id}", headers=a.headers)
            assert a_leaves.status_code in (204, 409), a_leaves.text
            outcomes.append((promote.status_code, leave.status_code, a_leaves.status_code))

            # Membership, through both replicas: exactly one owner, and active.
            for http in (client, other):
                owners = await listed_owners(http, cid, outsider)
                if owners != {a.user_id}:
                    failures.append(f"round {round_no}: owners listed {owners}, expected only A")
            if await standing(client, cid, a) != ("active", "owner"):
                failures.append(f"round {round_no}: A is {await standing(client, cid, a)}")
            if await standing(other, cid, c) != ("left", None):
                failures.append(f"round {round_no}: C is {await standing(other, cid, c)}")

            # The bus says the same: a consumer replaying it finds A the only active owner.
            stream_owners = owners_from_stream(await community_messages(nats_url, cid))
            if stream_owners != {a.user_id}:
                failures.append(f"round {round_no}: the stream's owners are {stream_owners}")

            # The events service, fed by that stream, agrees: only the listed owner may schedule.
            async def events_agree(
                cid: str = cid, people: tuple[Person, ...] = (a, c), owners: set[str] = owners
            ) -> bool:
                for person in people:
                    response = await events.post(
                        f"/v1/communities/{cid}/events", json=meeting(), headers=person.headers
                    )
                    if (response.status_code == 201) != (person.user_id in owners):
                        return False
                return True

            if not await eventually(events_agree):
                failures.append(f"round {round_no}: the events service disagrees about who may schedule")

            # Coming back, C is a plain member in every answer.
            rejoined = await join(other, cid, c)
            assert rejoined.status_code == 201, rejoined.text
            answers = {rejoined.json()["role"], (await standing(client, cid, c))[1], (await standing(other, cid, c))[1]}
            if answers != {"member"}:
                failures.append(f"round {round_no}: rejoined C is shown as {answers}")

            # ...and to the events service: once it knows C is back (C sees a members-only
            # event), C is a plain member there too and may not schedule.
            async def c_is_back(cid: str = cid, c: Person = c, a: Person = a) -> bool:
                made = await events.post(f"/v1/communities/{cid}/events", json=meeting(), headers=a.headers)
                if made.status_code != 201:
                    return False
                return (await events.get(f"/v1/events/{made.json()['id']}", headers=c.headers)).status_code == 200

            if not await eventually(c_is_back):
                failures.append(f"round {round_no}: the events service never learnt that C rejoined")
                continue
            c_schedules = await events.post(f"/v1/communities/{cid}/events", json=meeting(), headers=c.headers)
            if c_schedules.status_code != 403:
                failures.append(f"round {round_no}: the events service lets rejoined C schedule")
        assert failures == [], f"{len(failures)} failures in {ROUNDS} rounds (outcomes {outcomes}):\n" + "\n".join(
            failures
        )


@pytest.mark.timeout(300)
async def test_owners_demoting_and_leaving_at_once_keep_one_active_owner(
    client: httpx.AsyncClient,
    start_service,  # type: ignore[no-untyped-def]
    nats_url: str,
) -> None:
    """Two owners, each demoting the other and leaving at the same time, on two replicas."""
    second: ServiceProcess = start_service("membership")
    outsider = new_person("outsider")
    async with httpx.AsyncClient(base_url=second.url, timeout=30) as other:
        failures: list[str] = []
        for round_no in range(ROUNDS):
            a, b = new_person("a"), new_person("b")
            cid = (await create_community(client, a))["id"]
            await join(other, cid, b)
            promoted = await client.patch(
                f"/v1/communities/{cid}/members/{b.user_id}", json={"role": "owner"}, headers=a.headers
            )
            assert promoted.status_code == 200, promoted.text
            base = f"/v1/communities/{cid}/members"
            responses = await asyncio.gather(
                client.patch(f"{base}/{b.user_id}", json={"role": "member"}, headers=a.headers),
                other.patch(f"{base}/{a.user_id}", json={"role": "member"}, headers=b.headers),
                other.delete(f"{base}/{a.user_id}", headers=a.headers),
                client.delete(f"{base}/{b.user_id}", headers=b.headers),
            )
            assert all(r.status_code in (200, 204, 403, 404, 409) for r in responses), [r.text for r in responses]
            owners = await listed_owners(client, cid, outsider)
            if len(owners) != 1:
                failures.append(f"round {round_no}: owners listed {owners}")
            for person in (a, b):
                status, role = await standing(other, cid, person)
                if (role == "owner") != (person.user_id in owners) or (role is not None and status != "active"):
                    failures.append(f"round {round_no}: {person.user_id} is {status}/{role}, owners {owners}")
            stream_owners = owners_from_stream(await community_messages(nats_url, cid))
            if stream_owners != owners:
                failures.append(f"round {round_no}: the stream's owners {stream_owners} != listed {owners}")
        assert failures == [], f"{len(failures)} failures in {ROUNDS} rounds:\n" + "\n".join(failures)
