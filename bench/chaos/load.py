"""The clients of the fault run: people joining, leaving, RSVPing and cancelling, an owner
scheduling events, all through the gateway.

Each person belongs to one client loop, so what one person asks happens in order and the
log of their answers is the truth the audit compares the databases with. A client retries
502, 503, 504, connection errors and a 409 "still running" for its key (a real client's policy)
with the same `Idempotency-Key` until the request's retry budget runs out; every other answer is
final. A 409 saying the key's first attempt was applied but its answer lost counts as applied.

Two kinds of people: *regulars* join every community during set-up and never leave, then
only RSVP and cancel, so every answer they get pins down whether they hold a place; *roamers*
join, RSVP, cancel and leave (and rejoin), which sends membership messages to the events
service and makes it release places.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from harness.api import Tokens, event_body

RETRIED_STATUSES = frozenset({502, 503, 504})
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (connection errors until the budget ran out)
    body: Any
    attempts: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def applied_unanswered(self) -> bool:
        """The Idempotency-Key's first attempt committed; its answer was lost (a kill after commit)."""
        return self.status == 409 and isinstance(self.body, dict) and self.body.get("applied") is True

    @property
    def took_effect(self) -> bool:
        return self.ok or self.applied_unanswered

    @property
    def outcome(self) -> str:
        return "no answer" if self.status is None else str(self.status)


@dataclass(frozen=True)
class Step:
    """One logical request and its final answer, in the order its person made them."""

    op: str  # join | leave | rsvp | cancel | schedule | create
    community_id: str
    event_id: str | None
    answer: Answer


@dataclass
class Person:
    user_id: str
    token: str
    roamer: bool
    steps: list[Step] = field(default_factory=list)
    believed_member: dict[str, bool] = field(default_factory=dict)


@dataclass
class Figures:
    """What the clients saw: final answers per operation and retries per cause."""

    outcomes: Counter[str] = field(default_factory=Counter)  # "rsvp 201"
    retries: Counter[str] = field(default_factory=Counter)  # "502", "connection"
    # Retries by cause, operation and the fault last injected: where the faults hurt.
    retries_after: Counter[str] = field(default_factory=Counter)  # "504 rsvp | kill -9 events"
    phase: str = "before any fault"
    slowest: dict[str, float] = field(default_factory=dict)  # operation -> longest wait for its final answer (s)
    requests: int = 0


class Client:
    """HTTP to the gateway with the retry policy above; counts everything."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, figures: Figures, retry_for: float) -> None:
        self.session = session
        self.base_url = base_url
        self.figures = figures
        self.retry_for = retry_for

    async def send(self, op: str, method: str, path: str, token: str, body: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        data = orjson.dumps(body) if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        deadline = started + self.retry_for
        attempts = 0
        self.figures.requests += 1
        while True:
            attempts += 1
            cause: str
            try:
                async with self.session.request(
                    method, self.base_url + path, data=data, headers=headers, timeout=REQUEST_TIMEOUT
                ) as response:
                    raw = await response.read()
                    status = response.status
                last = Answer(status, _parse(raw), attempts)
                if status in RETRIED_STATUSES:
                    cause = str(status)
                elif _still_running(last, response.headers):
                    cause = "409 still running"
                else:
                    answer = last
                    break
            except (aiohttp.ClientError, TimeoutError) as exc:
                cause = "connection"
                last = Answer(None, repr(exc), attempts)
            if time.monotonic() > deadline:
                answer = last
                break
            self.figures.retries[cause] += 1
            self.figures.retries_after[f"{cause} {op} | {self.figures.phase}"] += 1
            await asyncio.sleep(min(2.0, 0.1 * 2 ** min(attempts, 5)) * random.uniform(0.5, 1.0))
        self.figures.outcomes[f"{op} {answer.outcome}"] += 1
        self.figures.slowest[op] = max(self.figures.slowest.get(op, 0.0), time.monotonic() - started)
        return answer


def _still_running(answer: Answer, headers: Any) -> bool:
    """The idempotency 409 for a key whose first attempt may still commit: ask again later."""
    return (
        answer.status == 409
        and "Retry-After" in headers
        and isinstance(answer.body, dict)
        and any(e.get("field") == "Idempotency-Key" for e in answer.body.get("errors") or [])
        and not answer.applied_unanswered
    )


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return raw[:200].decode(errors="replace")


@dataclass
class World:
    """What exists: the owner, the communities and the events people can RSVP to."""

    owner: Person
    communities: list[str]
    events: dict[str, list[str]]  # community -> its events (grows while the owner schedules)
    people: list[Person]
    created_events: list[Step] = field(default_factory=list)  # the owner's POSTs, in order

    def all_events(self) -> list[tuple[str, str]]:
        return [(c, e) for c, es in self.events.items() for e in es]


async def join(client: Client, person: Person, community_id: str) -> Answer:
    answer = await client.send("join", "POST", f"/v1/communities/{community_id}/members", person.token)
    person.steps.append(Step("join", community_id, None, answer))
    if answer.ok:
        person.believed_member[community_id] = True
    return answer


async def leave(client: Client, person: Person, community_id: str) -> Answer:
    path = f"/v1/communities/{community_id}/members/{person.user_id}"
    answer = await client.send("leave", "DELETE", path, person.token)
    person.steps.append(Step("leave", community_id, None, answer))
    if answer.ok or answer.status == 404:
        person.believed_member[community_id] = False
    return answer


async def rsvp(client: Client, person: Person, community_id: str, event_id: str) -> Answer:
    body = {"attendance": "in_person"}
    answer = await client.send("rsvp", "PUT", f"/v1/events/{event_id}/rsvp", person.token, body)
    person.steps.append(Step("rsvp", community_id, event_id, answer))
    return answer


async def cancel(client: Client, person: Person, community_id: str, event_id: str) -> Answer:
    answer = await client.send("cancel", "DELETE", f"/v1/events/{event_id}/rsvp", person.token)
    person.steps.append(Step("cancel", community_id, event_id, answer))
    return answer


async def schedule(client: Client, world: World, community_id: str, seats: int) -> Answer:
    title = f"Chaos huddle {len(world.created_events) + 1}"
    body = event_body(title, seats)
    answer = await client.send("schedule", "POST", f"/v1/communities/{community_id}/events", world.owner.token, body)
    world.created_events.append(Step("schedule", community_id, None, answer))
    if answer.ok and isinstance(answer.body, dict):
        world.events[community_id].extend(str(i) for i in answer.body.get("occurrence_ids") or [answer.body["id"]])
    return answer


def make_people(tokens: Tokens, regulars: int, roamers: int) -> list[Person]:
    people = []
    for index in range(regulars + roamers):
        roamer = index >= regulars
        user_id, token = tokens.fresh_user("roamer" if roamer else "regular")
        people.append(Person(user_id, token, roamer))
    return people


class Budget:
    """Bounded in requests and in time: the load stops when its requests are spent, when the
    run says so (`stop`, once its time is up and the last fault has recovered), and in any
    case at a hard ceiling of three times its time plus five minutes."""

    def __init__(self, seconds: float, requests: int) -> None:
        self.until = time.monotonic() + seconds
        self.ceiling = self.until + 2 * seconds + 300
        self.requests = requests
        self.stop = asyncio.Event()

    def spend(self) -> bool:
        if self.stop.is_set() or self.requests <= 0 or time.monotonic() > self.ceiling:
            return False
        self.requests -= 1
        return True


async def person_step(client: Client, world: World, person: Person, rng: random.Random) -> None:
    """One request a person makes, chosen by what they believe they are."""
    if not person.roamer:
        community_id, event_id = rng.choice(world.all_events())
        if rng.random() < 0.6:
            await rsvp(client, person, community_id, event_id)
        else:
            await cancel(client, person, community_id, event_id)
        return
    community_id = rng.choice(world.communities)
    if not person.believed_member.get(community_id):
        await join(client, person, community_id)
        return
    roll = rng.random()
    if roll < 0.25:
        await leave(client, person, community_id)
        return
    event_id = rng.choice(world.events[community_id])
    if roll < 0.7:
        await rsvp(client, person, community_id, event_id)
    else:
        await cancel(client, person, community_id, event_id)


async def client_loop(
    client: Client,
    world: World,
    people: list[Person],
    budget: Budget,
    rng: random.Random,
    *,
    schedules: bool,
    seats: int,
) -> None:
    while budget.spend():
        if schedules and rng.random() < 0.05:
            await schedule(client, world, rng.choice(world.communities), seats)
        else:
            await person_step(client, world, rng.choice(people), rng)
