"""After the load and a settle period: the databases and the stream, compared with what every
person was answered.

What it counts (each must be 0):

- lost writes: a 2xx (or a 404 that says "not there") whose effect is not in the database —
  a membership, a place at an event, a scheduled event;
- lost messages: an aggregate whose version counter (`outbox_versions`, written in the same
  transaction as its outbox records) says N messages were committed while the stream lacks one
  of versions 1..N; or a membership or a place whose state is not what the last message about
  it says;
- duplicate messages: one message id twice, or two messages with the same aggregate and
  aggregateversion;
- stuck outbox records: records left in any service's `outbox`;
- dead letters: messages in the dead-letter stream;
- read-model disagreements: the events service's view of a membership differs from membership;
- seat counters wrong: an event's counters differ from its places, exceed its capacity, or a
  seat is free while someone waits.

An answer that never came (the retry budget ran out) or a 5xx leaves its person's state
unknown until a later answer pins it down; unknown states are not compared (and are counted).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import nats
import orjson
from nats.js.api import DeliverPolicy
from pymongo import AsyncMongoClient

from chaos.load import Person, World

ACTIVE_TYPES = {"org.weft.member.joined.v1", "org.weft.member.role_changed.v1"}
ENDED_TYPES = {"org.weft.member.left.v1", "org.weft.member.removed.v1"}
PLACE_TAKEN = {"org.weft.rsvp.confirmed.v1", "org.weft.rsvp.waitlisted.v1", "org.weft.rsvp.promoted.v1"}
PLACE_GIVEN_UP = {"org.weft.rsvp.cancelled.v1"}
EXAMPLES = 5


@dataclass
class Findings:
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    figures: dict[str, int] = field(default_factory=dict)  # context, not verdicts

    def found(self, kind: str, example: str) -> None:
        self.counts[kind] += 1
        if len(self.examples[kind]) < EXAMPLES:
            self.examples[kind].append(example)


PROBLEMS = (
    "lost writes",
    "lost messages",
    "duplicate messages",
    "stuck outbox records",
    "dead letters",
    "read-model disagreements",
    "seat counters wrong",
)


# --- what the answers say ---------------------------------------------------------------


def expected_memberships(people: list[Person]) -> dict[tuple[str, str], bool | None]:
    """(community, user) -> active after the person's last answer; None: unknown."""
    expected: dict[tuple[str, str], bool | None] = {}
    for person in people:
        for step in person.steps:
            if step.op not in ("join", "leave"):
                continue
            key = (step.community_id, person.user_id)
            state = expected.get(key, False)
            status = step.answer.status
            if step.answer.took_effect:
                state = step.op == "join"
            elif step.op == "leave" and status == 404:
                state = False  # "you are not a member"
            elif status is None or status >= 500:
                state = None
            expected[key] = state  # other 4xx: unchanged
    return expected


def expected_places(people: list[Person]) -> dict[tuple[str, str], bool | None]:
    """(event, user) -> holds a place after the person's last answer; None: unknown.

    A roamer who has left a community (or may have) and RSVPs again can be answered 2xx by
    an events service that has not yet learnt of the leave, which then releases the place:
    such places are unknown. Regulars never leave, so every answer of theirs is exact."""
    expected: dict[tuple[str, str], bool | None] = {}
    for person in people:
        left: set[str] = set()
        touched: dict[str, set[str]] = defaultdict(set)  # community -> events
        for step in person.steps:
            status = step.answer.status
            if step.op == "leave":
                if step.answer.took_effect or status == 404 or status is None or status >= 500:
                    left.add(step.community_id)
                    released = False if (step.answer.took_effect or status == 404) else None
                    for event_id in touched[step.community_id]:
                        expected[(event_id, person.user_id)] = released
                continue
            if step.op not in ("rsvp", "cancel") or step.event_id is None:
                continue
            key = (step.event_id, person.user_id)
            touched[step.community_id].add(step.event_id)
            state = expected.get(key, False)
            if step.answer.took_effect:
                state = None if (step.op == "rsvp" and step.community_id in left) else step.op == "rsvp"
            elif step.op == "cancel" and status == 404:
                state = False  # "you have no RSVP"
            elif status is None or status >= 500:
                state = None
            expected[key] = state
    return expected


# --- what the stream holds ----------------------------------------------------------------


async def read_stream(nats_url: str, stream: str, subjects: str) -> list[dict[str, Any]]:
    nc = await nats.connect(nats_url.split(","), allow_reconnect=False)
    try:
        js = nc.jetstream()
        total = (await js.stream_info(stream)).state.messages
        if not total:
            return []
        sub = await js.subscribe(subjects, stream=stream, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        bodies: list[dict[str, Any]] = []
        try:
            while True:
                msg = await sub.next_msg(timeout=10)
                bodies.append(orjson.loads(msg.data))
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        return bodies
    finally:
        await nc.close()


async def stream_count(nats_url: str, stream: str) -> int:
    nc = await nats.connect(nats_url.split(","), allow_reconnect=False)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def consumer_backlog(nats_url: str, stream: str) -> int:
    nc = await nats.connect(nats_url.split(","), allow_reconnect=False)
    try:
        consumers = await nc.jetstream().consumers_info(stream)
        return sum((info.num_pending or 0) + (info.num_ack_pending or 0) for info in consumers)
    finally:
        await nc.close()


# --- settling -----------------------------------------------------------------------------


async def outbox_pending(client: AsyncMongoClient[dict[str, Any]], databases: dict[str, str]) -> dict[str, int]:
    return {name: await client[db].outbox.count_documents({}) for name, db in databases.items()}


async def settle(
    mongo_url: str, nats_url: str, databases: dict[str, str], stream: str, timeout: float
) -> tuple[float, bool]:
    """Until every outbox is empty and every consumer has acknowledged everything, twice in a
    row a second apart (a handler's own messages land in the outbox as it acknowledges)."""
    started = time.monotonic()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    quiet = 0
    try:
        while time.monotonic() - started < timeout:
            try:
                pending = sum((await outbox_pending(client, databases)).values())
                backlog = await consumer_backlog(nats_url, stream)
            except Exception:
                pending = backlog = -1
            quiet = quiet + 1 if pending == 0 and backlog == 0 else 0
            if quiet >= 2:
                return time.monotonic() - started, True
            await asyncio.sleep(1.0)
        return time.monotonic() - started, False
    finally:
        await client.close()


# --- the comparison -------------------------------------------------------------------------


async def audit(
    mongo_url: str, nats_url: str, databases: dict[str, str], stream: str, world: World, initial_events: int
) -> Findings:
    findings = Findings()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, serverSelectionTimeoutMS=10000)
    try:
        membership = client[databases["membership"]]
        events = client[databases["events"]]
        memberships = {d["_id"]: d for d in await membership.memberships.find({}).to_list()}
        view = {d["_id"]: d for d in await events.membership_members.find({}).to_list()}
        places = {d["_id"]: d for d in await events.rsvps.find({}).to_list()}
        event_docs = {d["_id"]: d for d in await events.events.find({}).to_list()}
        versions: dict[str, int] = {}
        for service_db in (membership, events):
            for doc in await service_db.outbox_versions.find({}).to_list():
                versions[doc["_id"]] = int(doc["version"])
        outbox_ids: set[str] = set()
        for name, db_name in databases.items():
            stuck = await client[db_name].outbox.find({}, projection={"aggregate": 1, "version": 1}).to_list()
            for doc in stuck:
                findings.found("stuck outbox records", f"{name}: {doc['aggregate']} v{doc['version']}")
                outbox_ids.add(f"{doc['aggregate']}#{doc['version']}")
    finally:
        await client.close()

    messages = await read_stream(nats_url, stream, "weft.>")
    findings.figures["messages on the stream"] = len(messages)
    dead = await stream_count(nats_url, stream + "_DLQ")
    findings.figures["messages in the dead-letter stream"] = dead
    for _ in range(dead):
        findings.found("dead letters", f"{stream}_DLQ holds {dead} message(s)")

    _check_writes(findings, world, memberships, places, event_docs, initial_events)
    check_stream(findings, messages, versions, outbox_ids, memberships, places)
    _check_read_model(findings, memberships, view)
    _check_seats(findings, event_docs, places)
    return findings


def _check_writes(
    findings: Findings,
    world: World,
    memberships: dict[str, Any],
    places: dict[str, Any],
    event_docs: dict[str, Any],
    initial_events: int,
) -> None:
    unknown = 0
    for (community_id, user_id), active in expected_memberships([*world.people, world.owner]).items():
        doc = memberships.get(f"{community_id}:{user_id}")
        held = doc is not None and doc.get("status") == "active"
        if active is None:
            unknown += 1
        elif held != active:
            want = "active" if active else "not active"
            person = next(p for p in [*world.people, world.owner] if p.user_id == user_id)
            findings.found(
                "lost writes",
                f"membership {community_id}:{user_id}: answers say {want}, database {doc and doc.get('status')}; "
                f"answers: {_history(person, community_id, None)}",
            )
    by_id = {p.user_id: p for p in world.people}
    for (event_id, user_id), present in expected_places(world.people).items():
        held = f"{event_id}:{user_id}" in places
        if present is None:
            unknown += 1
        elif held != present:
            want = "a place" if present else "no place"
            community_id = next(c for c, es in world.events.items() if event_id in es)
            findings.found(
                "lost writes",
                f"place {event_id}:{user_id}: answers say {want}, database {held}; "
                f"answers: {_history(by_id[user_id], community_id, event_id)}",
            )
    answered = 0
    for step in world.created_events:
        if step.answer.ok and isinstance(step.answer.body, dict):
            for event_id in step.answer.body.get("occurrence_ids") or [step.answer.body["id"]]:
                answered += 1
                if event_id not in event_docs:
                    findings.found("lost writes", f"event {event_id}: answered 201, not in the database")
        elif not step.answer.ok and (step.answer.status is None or step.answer.status >= 500):
            unknown += 1
    findings.figures["states left unknown by a 5xx or no answer"] = unknown
    findings.figures["events scheduled without a 2xx answer (a retried POST, or one never answered)"] = max(
        0, len(event_docs) - initial_events - answered
    )


def _history(person: Person, community_id: str, event_id: str | None) -> str:
    """What the person was answered about this community (and event), attempts in brackets."""
    steps = [
        f"{s.op} {s.answer.outcome}[{s.answer.attempts}]"
        for s in person.steps
        if s.community_id == community_id and (s.event_id is None or s.event_id == event_id)
    ]
    return ", ".join(steps[-8:])


def check_stream(
    findings: Findings,
    messages: list[dict[str, Any]],
    versions: dict[str, int],
    outbox_ids: set[str],
    memberships: dict[str, Any],
    places: dict[str, Any],
) -> None:
    ids = Counter(m["id"] for m in messages)
    for message_id, n in ids.items():
        if n > 1:
            findings.found("duplicate messages", f"message id {message_id} x{n}")
    by_version = Counter((m.get("aggregate"), m.get("aggregateversion")) for m in messages)
    for (aggregate, version), n in by_version.items():
        if n > 1:
            findings.found("duplicate messages", f"{aggregate} v{version} x{n}")
    seen: dict[str, set[int]] = defaultdict(set)
    last: dict[str, dict[str, Any]] = {}  # aggregate -> its newest message
    last_place: dict[str, tuple[int, str]] = {}  # place id -> (version, type)
    for m in messages:
        aggregate, version = m.get("aggregate"), m.get("aggregateversion")
        if not isinstance(aggregate, str) or not isinstance(version, int):
            continue
        seen[aggregate].add(version)
        if aggregate not in last or version > last[aggregate]["aggregateversion"]:
            last[aggregate] = m
        rsvp = (m.get("data") or {}).get("rsvp")
        if m["type"] in PLACE_TAKEN | PLACE_GIVEN_UP and isinstance(rsvp, dict):
            place = f"{rsvp['event_id']}:{rsvp['user_id']}"
            if place not in last_place or version > last_place[place][0]:
                last_place[place] = (version, m["type"])
    for aggregate, committed in versions.items():
        for version in range(1, committed + 1):
            if version not in seen[aggregate] and f"{aggregate}#{version}" not in outbox_ids:
                findings.found("lost messages", f"{aggregate} v{version} committed, not on the stream")
    for key, doc in memberships.items():
        newest = last.get(f"memberships/{key}")
        if doc.get("status") not in ("active", "left", "removed", "banned"):
            continue
        said = newest["type"] if newest else None
        active = doc["status"] == "active"
        if (active and said not in ACTIVE_TYPES) or (not active and said not in ENDED_TYPES):
            findings.found("lost messages", f"membership {key} is {doc['status']}; the last message about it: {said}")
    for key in set(places) | set(last_place):
        said = last_place.get(key, (0, None))[1]
        if (key in places) != (said in PLACE_TAKEN):
            findings.found("lost messages", f"place {key}: database {key in places}, the last message: {said}")


def _check_read_model(findings: Findings, memberships: dict[str, Any], view: dict[str, Any]) -> None:
    for key, doc in memberships.items():
        if doc.get("status") not in ("active", "left", "removed", "banned"):
            continue  # pending or declined: nothing the events service is told
        held = view.get(key)
        if held is None or bool(held.get("active")) != (doc["status"] == "active"):
            seen = None if held is None else {"active": held.get("active"), "role": held.get("role")}
            findings.found("read-model disagreements", f"{key}: membership {doc['status']}, events' view {seen}")
    for key in set(view) - set(memberships):
        findings.found("read-model disagreements", f"{key}: in events' view, unknown to membership")


def _check_seats(findings: Findings, event_docs: dict[str, Any], places: dict[str, Any]) -> None:
    counted: Counter[tuple[str, str]] = Counter((p["event_id"], p["status"]) for p in places.values())
    for event_id, event in event_docs.items():
        seats = (event.get("capacity") or {}).get("in_person")
        confirmed = int(event["confirmed"]["in_person"])
        waitlisted = int(event["waitlisted"]["in_person"])
        problems = []
        if confirmed != counted[(event_id, "confirmed")] or waitlisted != counted[(event_id, "waitlisted")]:
            problems.append(
                f"counters {confirmed}/{waitlisted}, places "
                f"{counted[(event_id, 'confirmed')]}/{counted[(event_id, 'waitlisted')]}"
            )
        if seats is not None and confirmed > seats:
            problems.append(f"{confirmed} confirmed for {seats} seats")
        if seats is not None and waitlisted and confirmed < seats:
            problems.append(f"{waitlisted} waiting while {seats - confirmed} seat(s) are free")
        if problems:
            findings.found("seat counters wrong", f"event {event_id}: {'; '.join(problems)}")
