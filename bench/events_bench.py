"""The events service's scenarios (issue 3): RSVPs to a waitlisted event, and a leaver's seat.

1. RSVP throughput: an open community, one occurrence with CAPACITY in-person seats, and many
   members, each a fresh user joined through membership before anything is timed. Then closed-loop
   `PUT /v1/events/{id}/rsvp {"attendance": "in_person"}` through the gateway, one request per
   member, so after the first CAPACITY every RSVP is a real write that lands on the waitlist.
2. Member left -> seat to the next person: an occurrence at capacity with a waitlist; one sample
   at a time, a confirmed member leaves the community (`DELETE /v1/communities/{cid}/members/{uid}`
   with their own token, straight to membership), and the time is taken from the arrival of
   membership's `member.left` message on NATS until the arrival of the events service's
   `rsvp.promoted` message for the first waitlisted person (core NATS subscriptions in this
   process, both stamped with the same clock when they reach it).

The setup talks to the services over HTTP and reads the events service's database only to
learn when its read model has caught up; nothing here asserts, it reports what it saw.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import loadgen
import nats
import orjson
import stack
from loadgen import Result

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from run import Bench

CAPACITY = 5  # in-person seats of each benchmark occurrence
DURABLE = "events"  # the events service's durable consumer (EventsSettings.consumer_name)
JOIN_BUDGET = 150.0  # seconds at most for joining one scenario's members (setup, untimed)
LEARN_TIMEOUT = 90.0  # for the events service to learn them from the bus
CATCH_UP_TIMEOUT = 30.0  # for its consumer to drain what is pending
SAMPLE_TIMEOUT = 10.0  # for one leave's two messages
LEAVE_BUDGET = 60.0  # seconds at most for all the leave samples
LEAVE_SPARE = 3  # waitlisted people still waiting after the last sample
PROBE = 5  # RSVPs sent one at a time before and after the window
RSVP_LABEL = "RSVP via gateway (waitlist)"

Log = Callable[[str], None]


# --- talking to the services (setup and checks, outside the timed windows) ----------------


class Api:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(self, method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.request(method, url, json=body, headers=headers) as response:
            raw = await response.read()
            return response.status, (orjson.loads(raw) if raw else None)


async def create_community(api: Api, gateway_url: str, owner: str, name: str) -> str:
    body = {"name": name, "purpose": "Measuring Weft's events service"}
    status, answer = await api.call("POST", f"{gateway_url}/v1/communities", owner, body)
    if status != 201:
        raise RuntimeError(f"POST /v1/communities answered {status}: {answer}")
    return str(answer["id"])


async def schedule(api: Api, gateway_url: str, community_id: str, owner: str, title: str) -> str:
    """An in-person occurrence a week ahead with CAPACITY seats, once the events service knows
    the community and its owner (it learns both from membership's messages, a moment later)."""
    starts = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    body = {
        "title": title,
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "venue": "Room 4, St Mary's",
        "capacity": {"in_person": CAPACITY},
    }
    deadline = time.monotonic() + LEARN_TIMEOUT
    while True:
        status, answer = await api.call("POST", f"{gateway_url}/v1/communities/{community_id}/events", owner, body)
        if status == 201:
            return str(answer["id"])
        if status not in (403, 404) or time.monotonic() > deadline:
            raise RuntimeError(f"POST /v1/communities/{community_id}/events answered {status}: {answer}")
        await asyncio.sleep(0.1)


class Bus:
    """This process's own NATS connection: the events consumer's backlog, and core subscriptions."""

    def __init__(self, nc: NatsClient, stream: str) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.stream = stream

    @classmethod
    async def connect(cls, url: str, stream: str) -> Bus:
        return cls(await nats.connect(url, name="weft-bench", allow_reconnect=False), stream)

    async def backlog(self) -> int:
        """Messages the events service has not yet fetched, plus those it has not acknowledged."""
        info = await self.js.consumer_info(self.stream, DURABLE)
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    async def caught_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while await self.backlog() > 0:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def close(self) -> None:
        await self.nc.close()


async def events_caught_up(nats_url: str, stream: str) -> bool:
    """With a short-lived connection: wait until the events service has consumed what is pending."""
    bus = await Bus.connect(nats_url, stream)
    try:
        return await bus.caught_up()
    finally:
        await bus.close()


@dataclass
class Members:
    """Fresh users joined to a community through membership, and what the events service learnt."""

    user_ids: list[str]  # known to the events service as active members, in the order they were minted
    asked: int
    joined: int  # 201s
    join_seconds: float
    learn_seconds: float  # after the last 201, until the events service knew them all
    errors: str = ""


async def join_members(bench: Bench, community_id: str, prefix: str, count: int) -> Members:
    """`count` fresh users join (straight to membership, closed loop, bounded by JOIN_BUDGET);
    then wait until the events service's read model holds them as members."""
    services = bench.stack
    pool = bench.join_pool(services.membership.port, community_id, prefix, count)
    started = time.perf_counter()
    result = await loadgen.run_closed_loop(
        services.membership.port,
        loadgen.one_shot(iter(pool)),
        expected=frozenset({201}),
        concurrency=bench.args.concurrency,
        warmup=0,
        duration=JOIN_BUDGET,
        max_requests=count,
        request_timeout=bench.args.request_timeout,
    )
    joined_at = time.perf_counter()
    known: list[str] = []
    while time.perf_counter() - joined_at < LEARN_TIMEOUT:
        known = stack.known_members(services.database.url, services.events_database_name, community_id, f"{prefix}-")
        if len(known) >= result.requests:
            break
        await asyncio.sleep(0.2)
    learnt = time.perf_counter() - joined_at
    known.sort(key=lambda user_id: int(user_id.rsplit("-", 1)[1]))  # by serial: the order they were minted
    errors = ", ".join(f"{n} x {kind}" for kind, n in result.errors.most_common())
    return Members(known, count, result.requests, joined_at - started, learnt, errors)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest rank; with fewer than 100 values p99 is the largest."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(pct / 100.0 * len(ordered)) - 1))]


# --- 1. RSVP throughput through the gateway -------------------------------------------------


@dataclass
class RsvpRun:
    result: Result
    cpu: stack.CpuWindow | None
    warm: Members | None  # members for the warm-up
    window: Members  # members for the measured window (and the probes)
    warm_rps: float
    warm_answered: int
    member_facts: int  # the events service's whole member read model, when the window started
    before: dict[str, int]  # the occurrence as stored when the window started (stack.occurrence_stats)
    after: dict[str, int]  # and when it ended
    api_counts: dict[str, Any]  # GET /v1/events/{id}/attendees as the owner: confirmed, waitlisted
    alone_before_ms: float  # p50 of PROBE RSVPs sent one at a time, just before the window
    alone_after_ms: float  # and just after it
    published: int  # RSVP messages the events service published during the window, copies included
    distinct: int  # distinct message ids among them
    notes: list[str] = field(default_factory=list)


class PublishCounter:
    """A core NATS subscription sees every publish, also those JetStream then drops as duplicates."""

    def __init__(self) -> None:
        self.published = 0
        self.ids: set[str] = set()

    async def on_message(self, msg: Msg) -> None:
        self.published += 1
        self.ids.add((msg.headers or {}).get("Nats-Msg-Id", ""))


async def rsvp_alone(api: Api, url: str, tokens: Sequence[str]) -> float:
    """p50 of RSVPs sent one at a time (no queueing): the service time, in ms."""
    times = []
    for token in tokens:
        sent = time.perf_counter()
        status, _ = await api.call("PUT", url, token, {"attendance": "in_person"})
        if status == 201:
            times.append(time.perf_counter() - sent)
    return 1000 * percentile(times, 50)


async def rsvp_throughput(bench: Bench, bus: Bus, api: Api, log: Log) -> RsvpRun:
    """Warm-up and window RSVP to the same occurrence, each member once: the warm-up's first
    RSVPs fill the seats, so every RSVP of the window lands on the waitlist. The warm-up's
    members are joined first, a fixed few; the window's are sized from the warm-up's rate
    (joins are slow on FerretDB, so only what the window can use), at most --rsvp-members.
    Around the window, PROBE members each RSVP alone, for the service time without queueing."""
    services, args = bench.stack, bench.args
    conc, cap = args.concurrency, args.rsvp_members
    db_url, events_db = services.database.url, services.events_database_name
    owner = bench.tokens.mint("bench-owner-rsvp")
    community_id = await create_community(api, services.gateway.url, owner, "Bench events community")
    event_id = await schedule(api, services.gateway.url, community_id, owner, "Bench RSVP meetup")
    log(f"  {RSVP_LABEL}: event {event_id}, {CAPACITY} in-person seats, one RSVP per fresh member ...")
    path = f"/v1/events/{event_id}/rsvp"
    headers = [("Content-Type", "application/json")]
    body = b'{"attendance":"in_person"}'

    def rsvps(user_ids: Sequence[str]) -> list[loadgen.HttpRequest]:
        return [
            loadgen.http_request(
                services.gateway.port,
                "PUT",
                path,
                [("Authorization", f"Bearer {bench.tokens.mint(u)}"), *headers],
                body,
            )
            for u in user_ids
        ]

    warm: Members | None = None
    warm_rps, warm_answered = 0.0, 0
    if args.warmup > 0:
        size = min(cap, 4 * conc + math.ceil(25 * args.warmup))
        warm = await join_members(bench, community_id, "bench-rsvp-warm", size)
        log("    " + members_line("warm-up", warm))
        await bus.caught_up()
        warmed, _ = await bench.closed_loop(
            services.gateway.port,
            loadgen.one_shot(iter(rsvps(warm.user_ids))),
            frozenset({201}),
            warmup=0,
            measure=False,
        )
        warm_rps, warm_answered = warmed.rps, warmed.requests
    wanted = math.ceil(args.duration * max(warm_rps, 10.0) * 1.25) + 4 * conc + 2 * PROBE
    size = max(2 * PROBE + 1, min(cap - (warm.joined if warm else 0), wanted))
    window = await join_members(bench, community_id, "bench-rsvp-win", size)
    log("    " + members_line("window", window))
    probes = [bench.tokens.mint(u) for u in window.user_ids[-2 * PROBE :]]
    requests = rsvps(window.user_ids[: -2 * PROBE])
    if not await bus.caught_up():
        log(f"    (the events service's consumer still had a backlog after {CATCH_UP_TIMEOUT:g} s; starting anyway)")
    url = f"{services.gateway.url}{path}"
    alone_before = await rsvp_alone(api, url, probes[:PROBE])
    await bus.caught_up()
    facts = stack.member_fact_count(db_url, events_db)
    before = stack.occurrence_stats(db_url, events_db, event_id)
    counter = PublishCounter()
    subscription = await bus.nc.subscribe(
        f"{bench.tokens.settings.subject_prefix}.rsvp.*.v1.{community_id}", cb=counter.on_message
    )
    await bus.nc.flush()
    result, cpu = await bench.closed_loop(
        services.gateway.port, loadgen.one_shot(iter(requests)), frozenset({201}), warmup=0, measure=True
    )
    await subscription.drain()  # every message the server sent is counted (unsubscribe would drop the queue)
    after = stack.occurrence_stats(db_url, events_db, event_id)
    await bus.caught_up()
    alone_after = await rsvp_alone(api, url, probes[PROBE:])
    status, counts = await api.call("GET", f"{services.gateway.url}/v1/events/{event_id}/attendees", owner)
    api_counts: dict[str, Any] = (
        {"confirmed": counts["confirmed"]["in_person"], "waitlisted": counts["waitlisted"]["in_person"]}
        if status == 200
        else {"status": status}
    )
    run = RsvpRun(
        result=result,
        cpu=cpu,
        warm=warm,
        window=window,
        warm_rps=warm_rps,
        warm_answered=warm_answered,
        member_facts=facts,
        before=before,
        after=after,
        api_counts=api_counts,
        alone_before_ms=alone_before,
        alone_after_ms=alone_after,
        published=counter.published,
        distinct=len(counter.ids),
    )
    if result.exhausted:
        run.notes.append(
            f"the {len(requests):,} members ran out {result.elapsed:.1f} s into the window "
            f"(the warm-up's rate underestimated the window's; --rsvp-members caps them at {cap:,})"
        )
    return run


def members_line(what: str, m: Members) -> str:
    return (
        f"{what}: {m.joined:,} of {m.asked:,} fresh members joined through membership in {m.join_seconds:.1f} s "
        f"({m.joined / max(m.join_seconds, 1e-9):.0f}/s), {len(m.user_ids):,} known to the events service "
        f"{m.learn_seconds:.1f} s after the last 201" + (f"; join errors: {m.errors}" if m.errors else "")
    )


def rsvp_lines(run: RsvpRun, concurrency: int) -> list[str]:
    r, before, after = run.result, run.before, run.after
    lines: list[str] = []
    if run.warm is not None:
        lines.append(
            f"- setup (untimed): {members_line('warm-up', run.warm)}; the warm-up answered {run.warm_answered:,} "
            f"RSVPs ({run.warm_rps:.0f}/s), from which the window's members were sized."
        )
    lines += [
        f"- setup (untimed): {members_line('window', run.window)} ({2 * PROBE} of them for the probes below).",
        f"- the events service's member read model held {run.member_facts:,} facts when the window started "
        "(every RSVP looks the caller up in it).",
        f"- the occurrence ({CAPACITY} in-person seats): {before.get('attendees', 0):,} attendees when the window "
        f"started (warm-up and probes), {after.get('attendees', 0):,} when it ended ({r.requests:,} RSVPs answered "
        f"201 in it): {after.get('confirmed', 0)} confirmed, {after.get('waitlisted', 0):,} waitlisted; the "
        f"document grew from {before.get('bytes', 0) / 1024:,.0f} to {after.get('bytes', 0) / 1024:,.0f} KiB, "
        f"{after.get('outbox', 0)} message(s) left in its outbox. Finally, after the probes, the API counts "
        f"{run.api_counts}.",
        f"- one RSVP alone (no queueing), p50 of {PROBE}: {run.alone_before_ms:.1f} ms just before the window, "
        f"{run.alone_after_ms:.1f} ms just after it; under {concurrency} concurrent ones the window's p50 was "
        f"{r.p50_ms:.1f} ms.",
    ]
    if run.distinct:
        lines.append(
            f"- during the window the events service published {run.published:,} RSVP messages for "
            f"{run.distinct:,} distinct ones ({run.published / run.distinct:.2f} each)"
            + (
                "; JetStream drops the copies by Nats-Msg-Id. Each outbox fast path publishes every entry pending "
                "in the document as it read it, including those of RSVPs still in flight."
                if run.published > run.distinct
                else "."
            )
        )
    return lines


# --- 2. member left -> seat to the next person ---------------------------------------------


class Arrivals:
    """Arrival times of expected messages, stamped when they reach this process."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.unexpected: list[tuple[str, str]] = []

    def expect(self, kind: str, user_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.expected[(kind, user_id)] = future
        return future

    def arrived(self, kind: str, user_id: str, at: float) -> None:
        future = self.expected.pop((kind, user_id), None)
        if future is None or future.done():
            self.unexpected.append((kind, user_id))
        else:
            future.set_result(at)


@dataclass
class LeaveRun:
    wanted: int
    members: Members
    waitlist_at_start: int = 0
    latencies: list[float] = field(default_factory=list)  # member.left arrival -> rsvp.promoted arrival
    from_delete: list[float] = field(default_factory=list)  # DELETE sent -> rsvp.promoted arrival
    round_trips: list[float] = field(default_factory=list)  # DELETE sent -> 204
    left_after_204: list[float] = field(default_factory=list)  # member.left arrival minus the 204's
    timeouts: int = 0
    failures: list[str] = field(default_factory=list)
    unexpected: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    event_bytes: int = 0
    setup_problem: str = ""


async def leave_to_promotion(bench: Bench, bus: Bus, api: Api, log: Log) -> LeaveRun:
    services, args = bench.stack, bench.args
    samples = args.leave_samples
    owner = bench.tokens.mint("bench-owner-leave")
    community_id = await create_community(api, services.gateway.url, owner, "Bench leavers community")
    event_id = await schedule(api, services.gateway.url, community_id, owner, "Bench full meetup")
    size = CAPACITY + samples + LEAVE_SPARE
    log(f"  member left -> seat to the next person: {samples} samples; joining {size} members first (untimed) ...")
    members = await join_members(bench, community_id, "bench-leave", size)
    run = LeaveRun(wanted=samples, members=members)

    # Places in a known order: RSVP one at a time, so the waitlist is the joining order.
    confirmed: deque[str] = deque()
    waitlist: deque[str] = deque()
    rsvp_url = f"{services.gateway.url}/v1/events/{event_id}/rsvp"
    for user_id in members.user_ids:
        status, answer = await api.call("PUT", rsvp_url, bench.tokens.mint(user_id), {"attendance": "in_person"})
        if status != 201:
            run.setup_problem = f"RSVP of {user_id} answered {status}: {answer}"
            return run
        (confirmed if answer["status"] == "confirmed" else waitlist).append(user_id)
    run.waitlist_at_start = len(waitlist)
    if len(confirmed) != CAPACITY or len(waitlist) <= LEAVE_SPARE:
        run.setup_problem = f"{len(confirmed)} confirmed and {len(waitlist)} waitlisted after the RSVPs"
        return run

    arrivals = Arrivals()
    prefix = bench.tokens.settings.subject_prefix

    def stamp(kind: str, user_of: Callable[[dict[str, Any]], str]) -> Callable[[Msg], Any]:
        async def on_message(msg: Msg) -> None:
            at = time.perf_counter()
            arrivals.arrived(kind, user_of(orjson.loads(msg.data)["data"]), at)

        return on_message

    subscriptions = [
        await bus.nc.subscribe(f"{prefix}.member.left.v1.{community_id}", cb=stamp("left", lambda d: d["user_id"])),
        await bus.nc.subscribe(
            f"{prefix}.rsvp.promoted.v1.{community_id}", cb=stamp("promoted", lambda d: d["rsvp"]["user_id"])
        ),
    ]
    await bus.nc.flush()
    membership = services.membership.url
    started = time.perf_counter()
    try:
        for _ in range(samples):
            if time.perf_counter() - started > LEAVE_BUDGET or len(waitlist) == 0:
                break
            # Each sample starts with the events service idle (its consumer drained).
            await bus.caught_up()
            leaver, next_person = confirmed.popleft(), waitlist.popleft()
            left = arrivals.expect("left", leaver)
            promoted = arrivals.expect("promoted", next_person)
            sent = time.perf_counter()
            status, answer = await api.call(
                "DELETE", f"{membership}/v1/communities/{community_id}/members/{leaver}", bench.tokens.mint(leaver)
            )
            answered = time.perf_counter()
            if status != 204:
                run.failures.append(f"DELETE member answered {status}: {answer}")
                break
            try:
                async with asyncio.timeout(SAMPLE_TIMEOUT):
                    left_at = await left
                    promoted_at = await promoted
            except TimeoutError:
                run.timeouts += 1
                break  # who holds which place is no longer known; stop here
            confirmed.append(next_person)
            run.latencies.append(promoted_at - left_at)
            run.from_delete.append(promoted_at - sent)
            run.round_trips.append(answered - sent)
            run.left_after_204.append(left_at - answered)
    finally:
        run.elapsed = time.perf_counter() - started
        for subscription in subscriptions:
            await subscription.drain()
    run.unexpected = arrivals.unexpected
    run.event_bytes = stack.occurrence_stats(services.database.url, services.events_database_name, event_id).get(
        "bytes", 0
    )
    return run


def _before_after(seconds: float) -> str:
    return f"{abs(1000 * seconds):.1f} ms {'after' if seconds >= 0 else 'before'}"


def leave_lines(run: LeaveRun) -> list[str]:
    m = run.members
    lines = [
        f"- setup (untimed): {m.joined} members joined, {len(m.user_ids)} known to the events service; "
        f"{CAPACITY} confirmed, {run.waitlist_at_start} waitlisted (RSVPs one at a time, through the gateway)."
    ]
    if run.setup_problem:
        return [*lines, f"- not measured: {run.setup_problem}"]
    n = len(run.latencies)

    def ms(values: Sequence[float], pct: float) -> str:
        return f"{1000 * percentile(values, pct):.1f}"

    if n:
        lines += [
            f"- {n} of {run.wanted} samples in {run.elapsed:.1f} s, one at a time: from member.left arriving on "
            f"NATS to rsvp.promoted arriving: p50 {ms(run.latencies, 50)} ms, p99 {ms(run.latencies, 99)} ms, "
            f"max {ms(run.latencies, 100)} ms" + (" (under 100 samples p99 is the max)" if n < 100 else "") + ".",
            f"- from the DELETE being sent: p50 {ms(run.from_delete, 50)} ms, max {ms(run.from_delete, 100)} ms; "
            f"the DELETE's round trip (204): p50 {ms(run.round_trips, 50)} ms; member.left reached this process "
            + _before_after(percentile(run.left_after_204, 50))
            + " the 204 at p50 (membership publishes it before answering).",
        ]
    else:
        lines.append("- no sample completed.")
    problems = []
    if run.timeouts:
        problems.append(f"{run.timeouts} sample(s) timed out after {SAMPLE_TIMEOUT:g} s")
    problems += run.failures
    if run.unexpected:
        problems.append(f"{len(run.unexpected)} unexpected or repeated message(s): {run.unexpected[:5]}")
    if problems:
        lines.append("- problems: " + "; ".join(problems) + ".")
    lines.append(f"- the occurrence's document at the end: {run.event_bytes / 1024:.1f} KiB.")
    return lines
